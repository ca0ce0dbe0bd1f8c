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
    metric = NormalErrorMetric(median='exact')
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
    metric = NormalErrorMetric(median='exact')
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
    metric = NormalErrorMetric(median='exact')
    metric.process(
        None, [_sample([_tilted(t) for t in (5.0, 80.0, 33.3)], [gt] * 3)])
    assert metric.evaluate(1)['median'] == pytest.approx(33.3, abs=1e-4)


def test_median_matches_numpy_on_random_data():
    rng = np.random.default_rng(0)
    metric = NormalErrorMetric(median='exact')
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


def _random_normals(rng, n, h, w):
    pred = torch.from_numpy(rng.normal(size=(n, 3, h, w))).float()
    gt = torch.from_numpy(rng.normal(size=(n, 3, h, w))).float()
    gt[:, :, 0, :2] = 0  # invalid pixels
    return pred, gt


@pytest.mark.parametrize('bin_width', [0.01, 0.5, 7.0])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_histogram_median_is_within_half_a_bin_of_the_exact(bin_width, seed):
    rng = np.random.default_rng(seed)
    exact = NormalErrorMetric(median='exact')
    hist = NormalErrorMetric(median_bin=bin_width)
    assert hist.median == 'histogram'  # the default
    for n, h, w in ((2, 9, 11), (3, 5, 7), (1, 4, 5)):  # odd and even counts
        pred, gt = _random_normals(rng, n, h, w)
        for metric in (exact, hist):
            metric.results.extend(metric.process_batch(pred, gt))
    ref = exact.compute_from(exact.results)
    res = hist.compute_from(hist.results)
    assert abs(res['median'] - ref['median']) <= bin_width / 2 + 1e-9
    # everything but the median is the same in both modes
    for key in ref:
        if key != 'median':
            assert res[key] == pytest.approx(ref[key], abs=1e-12), key


def test_histogram_median_hand_computed():
    # angles 10, 20.3, 30.5, 40 with 1-degree bins: the two middle values
    # fall in bins [20, 21) and [30, 31): (20.5 + 30.5) / 2
    gt = (0, 0, 1)
    metric = NormalErrorMetric(median_bin=1.0)
    metric.process(
        None,
        [_sample([_tilted(t) for t in (10.0, 20.3, 30.5, 40.0)], [gt] * 4)])
    assert metric.evaluate(1)['median'] == pytest.approx(25.5)
    metric = NormalErrorMetric(median_bin=1.0)
    metric.process(None, [
        _sample([_tilted(180.0), _tilted(0.0)] * 2 + [_tilted(180.0)],
                [gt] * 5)
    ])
    assert metric.evaluate(1)['median'] == pytest.approx(179.5)


def test_histogram_memory_does_not_grow_with_the_image():
    rng = np.random.default_rng(0)
    metric = NormalErrorMetric()
    small = metric.process_batch(*_random_normals(rng, 1, 4, 4))[0][0]
    large = metric.process_batch(*_random_normals(rng, 1, 96, 128))[0][0]
    assert small.nbytes == large.nbytes == 18000 * 4
    exact = NormalErrorMetric(median='exact')
    assert exact.process_batch(*_random_normals(rng, 1, 96, 128))[0][0]. \
        nbytes == (96 * 128 - 2) * 4


def test_bad_median_options():
    with pytest.raises(ValueError, match="'histogram', 'exact'"):
        NormalErrorMetric(median='approx')
    with pytest.raises(ValueError, match='median_bin'):
        NormalErrorMetric(median_bin=0)
