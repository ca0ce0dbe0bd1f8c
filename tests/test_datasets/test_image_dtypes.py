"""Image arrays of every dtype are read correctly, or refused by name: in
the data sets' ``.npy`` images, in check_data / check_dataset.py, and in
the inferencer's arrays (RGB by default, BGR on request)."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
from tool_runner import REPO

from had_mm.datasets.dataset_check import check_dataset
from had_mm.datasets.transforms import (LoadMultiTaskImage,
                                        MultiTaskInferencerLoader)

# one pixel whose uint8 * 255 wraps: 154 * 255 % 256 = 102
RGB = np.array([[[154, 160, 128], [0, 255, 7]]], np.uint8)


def _load_npy(tmp_path, arr) -> np.ndarray:
    path = str(tmp_path / 'img.npy')
    np.save(path, arr)
    return LoadMultiTaskImage()(dict(img_path=path))['img']


@pytest.mark.parametrize(
    'arr', [
        RGB, RGB / 255.0, (RGB / 255.0).astype(np.float32),
        RGB.astype(np.int64),
        RGB.astype(np.uint16)
    ],
    ids=['uint8', 'float64', 'float32', 'int64', 'uint16'])
def test_npy_images_of_every_dtype_read_as_their_colours(tmp_path, arr):
    img = _load_npy(tmp_path, arr)
    assert img.dtype == np.uint8
    np.testing.assert_array_equal(img[..., ::-1], RGB)  # BGR out


@pytest.mark.parametrize(
    'arr,words', [
        (RGB.astype(np.float32), ('float32', 'up to 255', 'divide it by 255')),
        (RGB / 255.0 - 0.5, ('float64', 'normalised')),
        (RGB.astype(np.uint16) * 256, ('uint16', 'outside 0..255')),
        (RGB > 100, ('bool', 'not an image dtype')),
    ],
    ids=['float_0_255', 'negative', 'uint16_16bit', 'bool'])
def test_npy_images_that_do_not_fit_are_refused_by_name(tmp_path, arr, words):
    path = str(tmp_path / 'img.npy')
    np.save(path, arr)
    with pytest.raises(ValueError) as err:
        LoadMultiTaskImage()(dict(img_path=path))
    msg = str(err.value)
    assert path in msg and '\n' not in msg
    for word in words:
        assert word in msg, msg


def test_float_rounding_just_outside_0_1_is_clipped(tmp_path):
    arr = np.array([[[1.0004, -0.0002, 0.5]]])
    np.testing.assert_array_equal(
        _load_npy(tmp_path, arr)[..., ::-1], [[[255, 0, 128]]])


def _npy_rooms(root, images) -> str:
    for split in ('train', 'val'):
        for kind in ('image', 'label'):
            (root / split / kind).mkdir(parents=True)
        for i, img in enumerate(images):
            np.save(root / split / 'image' / f'{i}.npy', img)
            np.save(root / split / 'label' / f'{i}.npy',
                    np.zeros(img.shape[:2], np.int64))
    return str(root)


def test_check_data_reports_a_float_0_255_image(tmp_path):
    from mmengine.registry import init_default_scope

    from had_mm.datasets import NYUv2MultiTaskDataset
    init_default_scope('had_mm')
    good = np.full((4, 5, 3), 0.5, np.float32)
    root = _npy_rooms(tmp_path / 'npy', [good, good * 255])
    ds = NYUv2MultiTaskDataset(
        root,
        tasks=['semantic'],
        pipeline=[
            dict(type='LoadMultiTaskImage'),
            dict(type='LoadMultiTaskAnnotations')
        ])
    with pytest.raises(ValueError) as err:
        check_dataset(ds, 'the train set')
    msg = str(err.value)
    assert osp.join('train', 'image', '1.npy') in msg
    assert 'float32' in msg and 'up to 127.5' in msg


def _check_dataset_main():
    """tools/analysis/check_dataset.py's main, run in this process (a
    subprocess start costs seconds)."""
    spec = importlib.util.spec_from_file_location(
        'check_dataset_tool',
        osp.join(REPO, 'tools', 'analysis', 'check_dataset.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_check_dataset_tool_reads_uint8_and_reports_float_0_255(
        tmp_path, capsys):
    root = _npy_rooms(tmp_path / 'npy', [RGB, RGB])
    cfg = tmp_path / 'npy_cfg.py'
    base = osp.join(REPO, 'configs/had/had_r18-d8_nyuv2-3tasks.py')
    cfg.write_text(f"_base_ = ['{base}']\n"
                   f"tasks = ['semantic']\ndata_root = '{root}'\n"
                   'train_dataloader = dict(dataset=dict(data_root=data_root, '
                   'tasks=tasks))\n'
                   'val_dataloader = dict(dataset=dict(data_root=data_root, '
                   'tasks=tasks))\ntest_dataloader = val_dataloader\n')
    main = _check_dataset_main()
    main([str(cfg), '--splits', 'train'])
    assert 'train: 2 images (1x2)' in capsys.readouterr().out
    np.save(osp.join(root, 'train', 'image', '1.npy'), RGB.astype(np.float64))
    with pytest.raises(SystemExit) as exit_info:
        main([str(cfg), '--splits', 'train'])
    assert exit_info.value.code == 2
    lines = [
        ln for ln in capsys.readouterr().err.splitlines()
        if ln.startswith('error')
    ]
    assert len(lines) == 1
    assert osp.join('train', 'image', '1.npy') in lines[0]
    assert 'float64' in lines[0] and 'up to 255' in lines[0]


# ------------------------------------------------------------ inferencer
def test_inferencer_arrays_are_rgb_unless_told_bgr():
    default = MultiTaskInferencerLoader()(dict(img=RGB))['img']
    np.testing.assert_array_equal(default, RGB[..., ::-1])  # BGR inside
    bgr = MultiTaskInferencerLoader('bgr')(dict(img=RGB[..., ::-1]))['img']
    np.testing.assert_array_equal(bgr, default)
    as_float = MultiTaskInferencerLoader()(dict(img=RGB / 255.0))['img']
    np.testing.assert_array_equal(as_float, default)
    with pytest.raises(ValueError, match='channel_order must be "rgb"'):
        MultiTaskInferencerLoader('RGBA')


def test_inferencer_array_errors_describe_the_input():
    loader = MultiTaskInferencerLoader()
    with pytest.raises(ValueError) as err:
        loader(dict(img=np.zeros((4, 6), bool)))
    msg = str(err.value)
    assert 'shape (4, 6) and dtype bool' in msg, msg
    assert '(4, 6, 3)' not in msg
    with pytest.raises(ValueError) as err:
        loader(dict(img=RGB.astype(np.float32)))
    assert 'up to 255' in str(err.value)
    with pytest.raises(ValueError) as err:
        loader(dict(img=np.zeros((4, 6, 4), np.uint8)))
    assert 'shape (4, 6, 4)' in str(err.value)
