import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from had_mm.datasets import NYUv2MultiTaskDataset
from had_mm.datasets.transforms import (LoadMultiTaskAnnotations,
                                        LoadMultiTaskImage)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('had_mm')


LOAD = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations')]


def _load(info: dict) -> dict:
    return LoadMultiTaskAnnotations().transform(LoadMultiTaskImage().transform(
        dict(info)))


def test_toolkit_layout_all_tasks(synthetic_rooms_root):
    ds = NYUv2MultiTaskDataset(
        synthetic_rooms_root, split='train', pipeline=LOAD)
    assert ds.layout == 'toolkit'
    assert len(ds) > 0 and ds.metainfo['classes'][0] == 'bed'
    res = ds[0]
    h, w = res['img'].shape[:2]
    assert res['gt_seg_map'].shape == (h, w)
    assert res['gt_seg_map'].max() <= 12 or res['gt_seg_map'].max() == 255
    assert res['gt_depth_map'].dtype == np.float32
    valid = np.any(res['gt_normal'] != 0, axis=-1)
    np.testing.assert_allclose(
        np.linalg.norm(res['gt_normal'][valid], axis=-1), 1, atol=1e-5)
    assert set(np.unique(res['gt_saliency'])) <= {0, 1, 255}


def test_tasks_argument_loads_only_those_labels(synthetic_rooms_root):
    ds = NYUv2MultiTaskDataset(
        synthetic_rooms_root, split='test', tasks=['depth'], pipeline=LOAD)
    res = ds[0]
    assert 'gt_depth_map' in res
    assert not {'gt_seg_map', 'gt_normal', 'gt_saliency'} & set(res)
    assert 'semantic_path' not in ds.get_data_info(0)


def test_unknown_task():
    with pytest.raises(ValueError, match='valid tasks are semantic'):
        NYUv2MultiTaskDataset('.', tasks=['edges'])


def test_missing_folder(tmp_path):
    # a synthetic-rooms folder: how to generate it
    with pytest.raises(FileNotFoundError, match='make_synthetic_rooms'):
        NYUv2MultiTaskDataset(str(tmp_path / 'synthetic_rooms'))
    # any other (NYUv2) folder: the NYUv2 preparation, never synthetic data
    for name in ('nyuv2', 'nowhere'):
        with pytest.raises(FileNotFoundError) as err:
            NYUv2MultiTaskDataset(str(tmp_path / 'data' / name))
        msg = str(err.value)
        assert 'docs/en/user_guides/nyuv2_8gpus.md' in msg, msg
        assert 'synthetic' not in msg.lower(), msg


def test_unrecognised_layout_says_what_it_expected(tmp_path):
    (tmp_path / 'stuff').mkdir()
    with pytest.raises(ValueError) as err:
        NYUv2MultiTaskDataset(str(tmp_path))
    for expected in ('image/train/', 'gt_sets/', 'train/image/*.npy'):
        assert expected in str(err.value)


def test_image_without_label(synthetic_rooms_root, tmp_path):
    root = tmp_path / 'copy'
    shutil.copytree(synthetic_rooms_root, root)
    victim = sorted(os.listdir(root / 'depth' / 'train'))[0]
    os.remove(root / 'depth' / 'train' / victim)
    with pytest.raises(FileNotFoundError) as err:
        NYUv2MultiTaskDataset(str(root))
    assert victim in str(err.value) and 'has no depth label' in str(err.value)


def _npy_root(tmp_path, label=None, depth=None, normal=None):
    root = tmp_path / 'npy'
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for kind in ('image', 'label', 'depth', 'normal'):
            (root / split / kind).mkdir(parents=True)
        for i in range(2):
            np.save(root / split / 'image' / f'{i}.npy',
                    rng.random((6, 8, 3)).astype(np.float32))
            lab = label if label is not None else rng.integers(-1, 13, (6, 8))
            np.save(root / split / 'label' / f'{i}.npy', lab)
            dep = depth if depth is not None else rng.random((6, 8)) + 0.5
            np.save(root / split / 'depth' / f'{i}.npy', dep)
            nor = normal if normal is not None else np.tile([0., 0., 1.],
                                                            (6, 8, 1))
            np.save(root / split / 'normal' / f'{i}.npy', nor)
    return str(root)


def test_numpy_layout_and_ignore_index(tmp_path):
    label = np.zeros((6, 8), np.int64)
    label[0, 0] = -1
    depth = np.ones((6, 8))
    depth[1, 1] = np.nan  # a hole: masked, not an error
    normal = np.tile([0., 0., 1.], (6, 8, 1))
    normal[2, 2] = 0  # zero-length: invalid
    root = _npy_root(tmp_path, label, depth, normal)
    ds = NYUv2MultiTaskDataset(
        root,
        split='test',
        tasks=['semantic', 'depth', 'normal'],
        pipeline=LOAD)
    assert ds.layout == 'numpy' and len(ds) == 2
    res = ds[0]
    assert res['gt_seg_map'][0, 0] == 255 and res['gt_seg_map'][0, 1] == 0
    assert res['gt_depth_map'][1, 1] == 0 and res['gt_depth_map'][0, 0] == 1
    assert np.all(res['gt_normal'][2, 2] == 0)
    assert res['img'].dtype == np.uint8 and res['img'].shape == (6, 8, 3)


def test_numpy_layout_has_no_40_classes(tmp_path):
    with pytest.raises(ValueError) as err:
        NYUv2MultiTaskDataset(_npy_root(tmp_path), num_classes=40)
    msg = str(err.value)
    assert '13-class labels only, not 40' in msg
    assert 'configs/had/had_r18-d8_nyuv2-3tasks.py' in msg


@pytest.mark.parametrize('bad,match', [
    ('class', 'out of range'),
    ('negative_depth', 'negative values'),
    ('size', 'must match their image'),
])
def test_corrupt_labels_name_the_file(tmp_path, bad, match):
    label = np.zeros((6, 8), np.int64)
    depth = np.ones((6, 8))
    if bad == 'class':
        label[0, 0] = 13
    elif bad == 'negative_depth':
        depth[0, 0] = -2
    else:
        depth = np.ones((5, 8))
    root = _npy_root(tmp_path, label=label, depth=depth)
    ds = NYUv2MultiTaskDataset(
        root, tasks=['semantic', 'depth'], pipeline=LOAD)
    with pytest.raises(ValueError, match=match) as err:
        ds[0]
    assert osp.join('train',
                    'label' if bad == 'class' else 'depth') in str(err.value)


def test_nyud_layout(tmp_path):
    root = tmp_path / 'nyud'
    for d in ('images', 'segmentation', 'depth', 'normals', 'gt_sets'):
        (root / d).mkdir(parents=True)
    for sid in ('a', 'b'):
        Image.fromarray(np.zeros(
            (4, 5, 3), np.uint8)).save(root / 'images' / f'{sid}.jpg')
        Image.fromarray(np.full(
            (4, 5), 40, np.uint8)).save(root / 'segmentation' / f'{sid}.png')
        np.save(root / 'depth' / f'{sid}.npy', np.full((4, 5), 2.0))
        np.save(root / 'normals' / f'{sid}.npy',
                np.tile([1., 0., 0.], (4, 5, 1)))
    (root / 'gt_sets' / 'train.txt').write_text('a\nb\n')
    (root / 'gt_sets' / 'val.txt').write_text('b\n')
    ds = NYUv2MultiTaskDataset(
        str(root),
        split='test',
        tasks=['semantic', 'depth', 'normal'],
        num_classes=40,
        pipeline=LOAD)
    assert ds.layout == 'nyud' and len(ds) == 1
    res = ds[0]
    assert np.all(res['gt_seg_map'] == 39)  # 1..40 -> 0..39
    assert np.allclose(res['gt_depth_map'], 2.0)
    # 13 classes: the 40 stored ones mapped by the standard table
    # (40 otherprop -> 7 objects)
    ds13 = NYUv2MultiTaskDataset(
        str(root),
        split='test',
        tasks=['semantic'],
        num_classes=13,
        pipeline=LOAD)
    assert len(ds13.metainfo['classes']) == 13
    assert np.all(ds13[0]['gt_seg_map'] == 6)


def test_nyud_layout_maps_40_to_13_the_standard_way(tmp_path):
    from had_mm.datasets.nyuv2_classes import (NYUV2_13_CLASSES,
                                               NYUV2_40_CLASSES,
                                               NYUV2_40_TO_13)
    root = tmp_path / 'nyud'
    for d in ('images', 'segmentation', 'gt_sets'):
        (root / d).mkdir(parents=True)
    seg40 = np.arange(41, dtype=np.uint8).reshape(1, 41)  # 0 = unlabelled
    Image.fromarray(np.zeros((1, 41, 3),
                             np.uint8)).save(root / 'images' / 'a.png')
    Image.fromarray(seg40).save(root / 'segmentation' / 'a.png')
    (root / 'gt_sets' / 'train.txt').write_text('a\n')
    ds = NYUv2MultiTaskDataset(
        str(root), tasks=['semantic'], num_classes=13, pipeline=LOAD)
    seg13 = ds[0]['gt_seg_map'][0]
    assert seg13[0] == 255  # unlabelled stays ignored
    for c40 in range(1, 41):
        assert seg13[c40] == NYUV2_40_TO_13[c40] - 1
    names = dict(zip(NYUV2_40_CLASSES, range(1, 41)))
    for name in ('wall', 'floor', 'bed', 'chair', 'sofa', 'table', 'window',
                 'books', 'ceiling'):
        assert NYUV2_13_CLASSES[seg13[names[name]]] == name
    assert NYUV2_13_CLASSES[seg13[names['television']]] == 'tv'
    # a value beyond the 40 classes names the file
    Image.fromarray(np.full((1, 41), 41,
                            np.uint8)).save(root / 'segmentation' / 'a.png')
    with pytest.raises(ValueError, match='out of range for its 40 classes'):
        ds[0]
