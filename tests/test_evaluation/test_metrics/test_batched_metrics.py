"""The metrics process a batch at once, with the per-sample results of
one-sample processing (and mmseg's counting for semantics)."""
import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric

from had_mm.evaluation import (DepthErrorMetric, MultiTaskMetric,
                               NormalErrorMetric, SaliencyMetric,
                               SemanticIoUMetric)

# label sizes of the batch (two groups) and one prediction at another size
SIZES = [(6, 8), (6, 8), (5, 5), (6, 8), (5, 5)]


def _sample(i, h, w, pred_size=None):
    g = torch.Generator().manual_seed(i)
    ph, pw = pred_size or (h, w)
    seg = torch.randint(-1, 5, (1, h, w), generator=g)  # -1: out of range
    seg[0, 0, :2] = 255
    depth = torch.rand(1, h, w, generator=g) * 5
    depth[0, 1, :3] = 0
    depth[0, 2, 0] = float('nan')
    normal = torch.randn(3, h, w, generator=g)
    normal[:, 0, 0] = 0
    sal = (torch.rand(1, h, w, generator=g) < .4).long()
    sal[0, -1, -1] = 255
    return dict(
        gt_sem_seg=dict(data=seg),
        pred_sem_seg=dict(data=torch.randint(0, 6, (1, ph, pw), generator=g)),
        gt_depth_map=dict(data=depth),
        pred_depth_map=dict(data=torch.rand(1, ph, pw, generator=g) * 5),
        gt_normal=dict(data=normal),
        pred_normal=dict(data=torch.randn(3, ph, pw, generator=g)),
        gt_saliency=dict(data=sal),
        pred_saliency=dict(data=torch.rand(1, ph, pw, generator=g)))


def _samples():
    out = [_sample(i, h, w) for i, (h, w) in enumerate(SIZES)]
    out.append(_sample(9, 6, 8, pred_size=(3, 4)))  # resized prediction
    del out[2]['gt_depth_map']  # a sample without a depth label
    return out


def _assert_same(a, b):
    if isinstance(a, tuple):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('metric_type', [
    lambda: SemanticIoUMetric(num_classes=5), DepthErrorMetric,
    NormalErrorMetric, SaliencyMetric
])
def test_batch_equals_one_sample_at_a_time(metric_type):
    samples = _samples()
    batched, single = metric_type(), metric_type()
    batched.process(None, samples)
    for s in samples:
        single.process(None, [s])
    labelled = sum(single.gt_key in s for s in samples)
    assert len(batched.results) == len(single.results) == labelled
    for a, b in zip(batched.results, single.results):
        _assert_same(a, b)
    assert batched.compute_metrics(batched.results) == pytest.approx(
        single.compute_metrics(single.results), nan_ok=True)


def test_semantic_areas_are_mmsegs():
    metric = SemanticIoUMetric(num_classes=5)
    samples = _samples()
    metric.process(None, samples)
    for s, areas in zip(samples, metric.results):
        pred = s['pred_sem_seg']['data']
        gt = s['gt_sem_seg']['data']
        if pred.shape != gt.shape:
            continue
        ref = IoUMetric.intersect_and_union(pred[0], gt[0], 5, 255)
        np.testing.assert_array_equal(areas, torch.stack(ref).double().numpy())


def test_multi_task_metric_keeps_one_result_per_sample():
    samples = _samples()
    metric = MultiTaskMetric(num_classes=5)
    metric.process(None, samples)
    assert len(metric.results) == len(samples)
    assert 'depth' not in metric.results[2]
    single = MultiTaskMetric(num_classes=5)
    for s in samples:
        single.process(None, [s])
    assert metric.compute_metrics(metric.results) == pytest.approx(
        single.compute_metrics(single.results), nan_ok=True)
