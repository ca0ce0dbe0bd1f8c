import math

import numpy as np
import pytest
import torch

from had_mm.evaluation import NormalErrorMetric
from had_mm.registry import METRICS


def _sample(pred, gt):
    """pred / gt: lists of (x, y, z) per pixel, laid out as 3 x 1 x N."""
    p = torch.tensor(pred, dtype=torch.float32).t().reshape(3, 1, -1)
    g = torch.tensor(gt, dtype=torch.float32).t().reshape(3, 1, -1)
    return dict(pred_normal=dict(data=p), gt_normal=dict(data=g))


def _tilted(theta_deg):
    """A unit normal at ``theta`` degrees from +z."""
    t = math.radians(theta_deg)
    return (math.sin(t), 0.0, math.cos(t))


def test_hand_computed_with_invalid_pixel():
    # angles: 0 (pred not unit), 45, invalid (zero gt), 180
    pred = [(0, 0, 2), (1, 1, 0), (1, 0, 0), (0, -1, 0)]
    gt = [(0, 0, 1), (3, 0, 0), (0, 0, 0), (0, 1, 0)]
    metric = NormalErrorMetric()
    metric.process(None, [_sample(pred, gt)])
    res = metric.evaluate(1)
    assert res['mean'] == pytest.approx(75.0, abs=1e-4)
    assert res['median'] == pytest.approx(45.0, abs=1e-4)
    assert res['within_11.25'] == pytest.approx(100 / 3)
    assert res['within_22.5'] == pytest.approx(100 / 3)
    assert res['within_30'] == pytest.approx(100 / 3)
    assert set(res) == {
        'mean', 'median', 'within_11.25', 'within_22.5', 'within_30'
    }


def test_non_finite_gt_is_invalid():
    pred = [(0, 0, 1), (1, 0, 0)]
    gt = [(0, 0, 1), (float('nan'), 0, 1)]
    metric = NormalErrorMetric()
    metric.process(None, [_sample(pred, gt)])
    assert metric.evaluate(1)['mean'] == pytest.approx(0.0, abs=1e-4)


def test_exact_median_and_pooled_mean_over_batches():
    gt = (0, 0, 1)
    a = [10.0, 20.0, 30.5]
    b = [40.0]
    c = [50.0, 70.0]
    metric = NormalErrorMetric()
    for angles in (a, b, c):
        metric.process(
            None, [_sample([_tilted(t) for t in angles], [gt] * len(angles))])
    res = metric.evaluate(3)
    everything = a + b + c
    # even count: mean of the two middle angles (30.5, 40)
    assert res['median'] == pytest.approx(35.25, abs=1e-4)
    assert res['mean'] == pytest.approx(np.mean(everything), abs=1e-4)
    # not the mean of per-image means (20.1667, 40, 60 -> 40.0556)
    assert res['mean'] != pytest.approx(
        np.mean([np.mean(a), np.mean(b), np.mean(c)]), abs=1e-2)
    assert res['within_11.25'] == pytest.approx(100 / 6)
    assert res['within_22.5'] == pytest.approx(200 / 6)
    assert res['within_30'] == pytest.approx(200 / 6)

    # odd count
    metric = NormalErrorMetric()
    metric.process(
        None, [_sample([_tilted(t) for t in (5.0, 80.0, 33.3)], [gt] * 3)])
    assert metric.evaluate(1)['median'] == pytest.approx(33.3, abs=1e-4)


def test_median_matches_numpy_on_random_data():
    rng = np.random.default_rng(0)
    metric = NormalErrorMetric()
    ref = []
    for _ in range(3):
        pred = torch.from_numpy(rng.normal(size=(3, 5, 7))).float()
        gt = torch.from_numpy(rng.normal(size=(3, 5, 7))).float()
        gt[:, 0, :3] = 0  # invalid pixels (96 valid in all)
        metric.process(
            None, [dict(pred_normal=dict(data=pred), gt_normal=dict(data=gt))])
        p = pred.double().reshape(3, -1).numpy()
        g = gt.double().reshape(3, -1).numpy()
        keep = np.abs(g).sum(0) > 0
        p = p[:, keep] / np.linalg.norm(p[:, keep], axis=0)
        g = g[:, keep] / np.linalg.norm(g[:, keep], axis=0)
        ref.append(np.degrees(np.arccos(np.clip((p * g).sum(0), -1, 1))))
    ref = np.concatenate(ref)
    assert ref.size % 2 == 0
    res = metric.evaluate(3)
    assert res['median'] == pytest.approx(np.median(ref), abs=1e-4)
    assert res['mean'] == pytest.approx(ref.mean(), abs=1e-6)
    assert res['within_30'] == pytest.approx(100 * np.mean(ref < 30))


def test_prediction_resized_to_label():
    pred = torch.zeros(3, 2, 2)
    pred[2] = 5.0
    gt = torch.zeros(3, 4, 4)
    gt[2] = 1.0
    metric = NormalErrorMetric()
    metric.process(
        None, [dict(pred_normal=dict(data=pred), gt_normal=dict(data=gt))])
    assert metric.evaluate(1)['mean'] == pytest.approx(0.0, abs=1e-4)


def test_no_valid_pixel_raises():
    metric = NormalErrorMetric()
    metric.process(None, [_sample([(0, 0, 1)], [(0, 0, 0)])])
    with pytest.raises(ValueError, match='no valid normal pixel'):
        metric.evaluate(1)


def test_registered():
    assert isinstance(
        METRICS.build(dict(type='NormalErrorMetric')), NormalErrorMetric)
