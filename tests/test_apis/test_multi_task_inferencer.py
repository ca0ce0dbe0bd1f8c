"""MultiTaskInferencer: inputs, tasks, saved files, and equality with
tools/test.py on the same images and checkpoint."""
import glob
import os
import os.path as osp
import sys

import mmcv
import numpy as np
import pytest
import torch
from apis_helpers import TINY_LIFELONG, data_root_options
from PIL import Image
from tool_runner import REPO, run_tool

HELPERS = osp.join(REPO, 'tests', 'test_apis', 'helpers')
TASKS3 = ['semantic', 'depth', 'normal']


def _inferencer(ckpt, config=TINY_LIFELONG, **kwargs):
    from had_mm.apis import MultiTaskInferencer
    return MultiTaskInferencer(config, ckpt, device='cpu', **kwargs)


def _four_task_config(tmp_path) -> str:
    """tiny_lifelong with a saliency head as well."""
    cfg = tmp_path / 'tiny_4tasks.py'
    cfg.write_text(f"_base_ = ['{TINY_LIFELONG}']\n"
                   'model = dict(heads=dict(saliency=dict('
                   "type='SaliencyHead', body={{_base_.body}})))\n")
    return str(cfg)


def _random_checkpoint(config: str, path: str) -> str:
    """A checkpoint of ``config``'s model with its initial weights."""
    from mmengine.config import Config

    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def _assert_same_labels_up_to_ties(labels,
                                   ref_labels,
                                   ref_logits,
                                   tie: float = 1e-3) -> None:
    """Equal class maps, except where the reference's two best logits are
    within ``tie`` (float summation order may flip such an argmax)."""
    top2 = np.sort(ref_logits, axis=0)[-2:]
    near_tie = (top2[1] - top2[0]) < tie
    differ = labels != ref_labels
    assert not (differ & ~near_tie).any(), np.argwhere(differ & ~near_tie)
    assert differ.mean() < 0.01


def test_predictions_equal_tools_test(lifelong_run, synthetic_rooms_root,
                                      tmp_path):
    ckpt = osp.join(lifelong_run, 'phase_3_normal.pth')
    dump = tmp_path / 'dump'
    cfg = tmp_path / 'dump_cfg.py'
    cfg.write_text(
        f"_base_ = ['{TINY_LIFELONG}']\n"
        "custom_imports = dict(imports=['had_mm', 'dump_predictions_hook'])\n"
        f"custom_hooks = [dict(type='DumpPredictionsHook', "
        f"out_dir='{dump}')]\n")
    proc = run_tool([
        sys.executable, 'tools/test.py',
        str(cfg), ckpt, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        *data_root_options(synthetic_rooms_root)
    ],
                    env={'PYTHONPATH': HELPERS + os.pathsep + REPO})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    expected = sorted(glob.glob(str(dump / '*.npz')))
    assert expected

    folder = osp.join(synthetic_rooms_root, 'image', 'test')
    inferencer = _inferencer(ckpt)
    assert inferencer.tasks == TASKS3
    preds = inferencer(folder)['predictions']
    assert len(preds) == len(expected)
    for path, pred in zip(expected, preds):
        ref = np.load(path)
        _assert_same_labels_up_to_ties(pred['semantic'], ref['semantic'][0],
                                       ref['semantic_logits'])
        np.testing.assert_allclose(pred['depth'], ref['depth'][0], atol=1e-5)
        np.testing.assert_allclose(
            pred['normal'], ref['normal'].transpose(1, 2, 0), atol=1e-5)


def test_inputs_path_array_list_and_mixed_size_folder(lifelong_run,
                                                      synthetic_rooms_root,
                                                      tmp_path):
    inferencer = _inferencer(osp.join(lifelong_run, 'phase_3_normal.pth'))
    image = osp.join(synthetic_rooms_root, 'image', 'test', '00000.png')
    one = inferencer(image)['predictions']
    assert set(one) == set(TASKS3)
    h, w = mmcv.imread(image).shape[:2]
    assert one['semantic'].shape == (h,
                                     w) and one['semantic'].dtype == np.int64
    assert one['depth'].shape == (h, w) and (one['depth'] > 0).all()
    assert one['normal'].shape == (h, w, 3)
    np.testing.assert_allclose(
        np.linalg.norm(one['normal'], axis=-1), 1, atol=1e-4)
    # an RGB array (numpy's order) gives the same as its file
    arr = inferencer(mmcv.imread(image, channel_order='rgb'))['predictions']
    for task in TASKS3:
        np.testing.assert_allclose(arr[task], one[task], atol=1e-6)
    many = inferencer([image, mmcv.imread(image)[..., ::-1]])['predictions']
    assert isinstance(many, list) and len(many) == 2

    folder = tmp_path / 'mixed'
    folder.mkdir()
    src = mmcv.imread(image)
    sizes = {'a.png': (32, 40), 'b.jpg': (27, 35), 'c.png': (50, 20)}
    for name, (hh, ww) in sizes.items():
        mmcv.imwrite(mmcv.imresize(src, (ww, hh)), str(folder / name))
    (folder / 'notes.txt').write_text('not an image, not listed')
    for batch_size in (1, 2):
        preds = inferencer(str(folder), batch_size=batch_size)['predictions']
        assert len(preds) == 3
        for (hh, ww), pred in zip(sizes.values(), preds):
            assert pred['semantic'].shape == (hh, ww)
            assert pred['depth'].shape == (hh, ww)
            assert pred['normal'].shape == (hh, ww, 3)
            assert np.isfinite(pred['depth']).all()


def test_default_tasks_are_the_learnt_ones(lifelong_run):
    for name, tasks in (('phase_1_semantic.pth', ['semantic']),
                        ('phase_2_depth.pth', ['semantic', 'depth']),
                        ('iter_4.pth', ['semantic', 'depth'
                                        ]), ('phase_3_normal.pth', TASKS3)):
        assert _inferencer(osp.join(lifelong_run, name)).tasks == tasks, name


def test_tasks_per_call_and_saved_files(tmp_path, synthetic_rooms_root):
    config = _four_task_config(tmp_path)
    ckpt = _random_checkpoint(config, str(tmp_path / 'four.pth'))
    inferencer = _inferencer(ckpt, config=config)
    assert inferencer.tasks == TASKS3 + ['saliency']
    image = osp.join(synthetic_rooms_root, 'image', 'test', '00004.png')
    out = tmp_path / 'out'
    res = inferencer(image, out_dir=str(out), return_vis=True)
    preds = res['predictions']
    h, w = preds['depth'].shape
    assert 0 <= preds['saliency'].min() and preds['saliency'].max() <= 1

    pred_dir = out / 'pred'
    seg = Image.open(pred_dir / '00004_semantic.png')
    assert seg.mode == 'P'
    np.testing.assert_array_equal(np.array(seg), preds['semantic'])
    palette = np.array(seg.getpalette()[:3 * 13]).reshape(13, 3)
    np.testing.assert_array_equal(palette,
                                  inferencer.model.dataset_meta['palette'])
    depth_png = mmcv.imread(str(pred_dir / '00004_depth.png'), 'unchanged')
    assert depth_png.dtype == np.uint16
    np.testing.assert_array_equal(depth_png, np.round(preds['depth'] * 1000))
    np.testing.assert_array_equal(
        np.load(pred_dir / '00004_depth.npy'), preds['depth'])
    normal = mmcv.imread(
        str(pred_dir / '00004_normal.png'),
        channel_order='rgb') / 255.0 * 2 - 1
    np.testing.assert_allclose(normal, preds['normal'], atol=1 / 255 + 1e-6)
    sal = mmcv.imread(str(pred_dir / '00004_saliency.png'), 'unchanged')
    np.testing.assert_allclose(sal / 255.0, preds['saliency'], atol=0.5 / 255)

    # one row: the image and one panel per task, named, keys below
    panel = mmcv.imread(str(out / 'vis' / '00004.png'))
    assert panel.shape[0] > h and panel.shape[1] > 5 * w
    np.testing.assert_array_equal(res['visualization'], panel[..., ::-1])

    only = inferencer(image, tasks=['depth'])['predictions']
    assert list(only) == ['depth']
    np.testing.assert_allclose(only['depth'], preds['depth'], atol=1e-6)


def _one_line(err) -> str:
    msg = str(err.value)
    assert '\n' not in msg, msg
    return msg


def test_bad_inputs_give_one_clear_line(lifelong_run, tmp_path):
    from had_mm.checkpoint import CheckpointLoadError
    ckpt = osp.join(lifelong_run, 'phase_3_normal.pth')
    inferencer = _inferencer(ckpt)

    fake = tmp_path / 'fake.png'
    fake.write_text('this is text, not a PNG')
    with pytest.raises(ValueError) as err:
        inferencer(str(fake))
    assert 'fake.png" is not an image' in _one_line(err)
    with pytest.raises(FileNotFoundError) as err:
        inferencer(str(tmp_path / 'missing.png'))
    assert 'missing.png" does not exist' in _one_line(err)
    with pytest.raises(ValueError) as err:
        inferencer(np.full((4, 4, 3), 200, np.float32))
    assert 'float32 with values up to 200' in _one_line(err)

    with pytest.raises(ValueError) as err:
        inferencer(str(fake), tasks=['saliency'])
    msg = _one_line(err)
    assert 'no head for task(s) saliency' in msg and 'normal' in msg
    with pytest.raises(ValueError) as err:
        _inferencer(ckpt, tasks=['segmentation'])
    assert "unknown task(s) ['segmentation']" in _one_line(err)

    other = _random_checkpoint(
        _four_task_config(tmp_path), str(tmp_path / 'other.pth'))
    with pytest.raises(CheckpointLoadError) as err:
        _inferencer(other)
    msg = _one_line(err)
    assert 'other.pth' in msg and 'does not fit' in msg
    assert 'heads.saliency' in msg

    with pytest.raises(FileNotFoundError) as err:
        _inferencer(ckpt, config='configs/nope.py')
    assert 'configs/nope.py' in _one_line(err)
