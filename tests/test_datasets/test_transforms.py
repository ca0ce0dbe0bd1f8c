import numpy as np
import pytest
import torch

from had_mm.datasets.transforms import (MultiTaskRandomFlip,
                                        MultiTaskRandomScaleCrop,
                                        MultiTaskResize, PackMultiTaskInputs)


def _results(h=6, w=8):
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(h, w, 3)).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    depth = rng.uniform(1, 5, (h, w)).astype(np.float32)
    depth[0, 0] = 0
    return dict(
        img=rng.integers(0, 255, (h, w, 3), dtype=np.uint8),
        gt_seg_map=rng.integers(0, 13, (h, w)).astype(np.uint8),
        gt_depth_map=depth,
        gt_normal=normal,
        gt_saliency=rng.integers(0, 2, (h, w)).astype(np.uint8),
        img_shape=(h, w),
        ori_shape=(h, w))


def test_flip_mirrors_all_labels_and_negates_normal_x():
    res = _results()
    ref = {k: v.copy() for k, v in res.items() if isinstance(v, np.ndarray)}
    out = MultiTaskRandomFlip(prob=1.0).transform(res)
    assert out['flip'] is True
    for key in ('img', 'gt_seg_map', 'gt_depth_map', 'gt_saliency'):
        np.testing.assert_array_equal(out[key], ref[key][:, ::-1])
    np.testing.assert_array_equal(out['gt_normal'][..., 0],
                                  -ref['gt_normal'][:, ::-1, 0])
    np.testing.assert_array_equal(out['gt_normal'][..., 1:],
                                  ref['gt_normal'][:, ::-1, 1:])
    # flipping twice is the identity
    again = MultiTaskRandomFlip(prob=1.0).transform(out)
    np.testing.assert_array_equal(again['gt_normal'], ref['gt_normal'])


def test_resize_uses_nearest_for_labels():
    res = MultiTaskResize(scale=(12, 16)).transform(_results())
    assert res['img'].shape == (12, 16, 3)
    # no interpolated values: every label value existed before
    src = _results()
    assert set(np.unique(res['gt_depth_map'])) <= set(
        np.unique(src['gt_depth_map']))
    assert res['gt_depth_map'][0, 0] == 0 and res['gt_depth_map'][1, 1] == 0
    assert set(np.unique(res['gt_seg_map'])) <= set(
        np.unique(src['gt_seg_map']))


def test_scale_crop_divides_depth_by_the_zoom():
    np.random.seed(0)
    res = MultiTaskRandomScaleCrop(scales=(2.0, )).transform(_results(8, 8))
    s, y0, x0 = res['scale_crop']
    assert s == 2.0 and res['img'].shape == (8, 8, 3)
    src = _results(8, 8)
    # each 2x2 block of the output is one source pixel, depth halved
    np.testing.assert_allclose(res['gt_depth_map'][::2, ::2],
                               src['gt_depth_map'][y0:y0 + 4, x0:x0 + 4] / 2)
    with pytest.raises(ValueError, match='>= 1'):
        MultiTaskRandomScaleCrop(scales=(0.5, ))


def test_pack_multitask_inputs():
    packed = PackMultiTaskInputs().transform(_results())
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 6, 8)
    assert sample.gt_sem_seg.data.shape == (1, 6, 8)
    assert sample.gt_sem_seg.data.dtype == torch.int64
    assert sample.gt_depth_map.data.shape == (1, 6, 8)
    assert sample.gt_normal.data.shape == (3, 6, 8)
    assert sample.gt_saliency.data.dtype == torch.int64
    assert sample.metainfo['ori_shape'] == (6, 8)
