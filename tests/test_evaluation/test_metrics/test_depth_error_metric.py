import math

import pytest
import torch

from had_mm.evaluation import DepthErrorMetric
from had_mm.registry import METRICS

NAN = float('nan')


def _sample(pred, gt):
    return dict(
        pred_depth_map=dict(data=torch.tensor(pred, dtype=torch.float32)),
        gt_depth_map=dict(data=torch.tensor(gt, dtype=torch.float32)))


# Sample A: valid pixels (pred 2, gt 1) and (pred 2, gt 2); gt 0 and NaN are
# invalid whatever the prediction.
SAMPLE_A = ([[[2., 2.], [5., 5.]]], [[[1., 2.], [0., NAN]]])
# Sample B: four valid pixels, one off by 4 (pred 8, gt 4).
SAMPLE_B = ([[[4., 4.], [4., 8.]]], [[[4., 4.], [4., 4.]]])


def _run(metric, samples):
    for pred, gt in samples:
        metric.process(None, [_sample(pred, gt)])
    return metric.evaluate(len(samples))


def test_single_sample_hand_computed():
    res = _run(DepthErrorMetric(), [SAMPLE_A])
    # errors 1, 0; rel 1/1, 0/2; squared 1, 0; delta1: ratio 2 (no), 1 (yes)
    assert res['abs_err'] == pytest.approx(0.5)
    assert res['rel_err'] == pytest.approx(0.5)
    assert res['rmse'] == pytest.approx(math.sqrt(0.5))
    assert res['delta1'] == pytest.approx(50.0)


def test_accumulates_sums_not_per_image_means():
    res = _run(DepthErrorMetric(), [SAMPLE_A, SAMPLE_B])
    # 6 valid pixels: abs sum 1 + 4, rel sum 1 + 1, sq sum 1 + 16,
    # delta1 count 1 + 3.
    assert res['abs_err'] == pytest.approx(5 / 6)
    assert res['rel_err'] == pytest.approx(2 / 6)
    assert res['rmse'] == pytest.approx(math.sqrt(17 / 6))
    assert res['delta1'] == pytest.approx(100 * 4 / 6)
    # The mean of per-image values differs: (0.5 + 1.0) / 2.
    assert res['abs_err'] != pytest.approx(0.75)

    # Same as one sample made of both images side by side.
    pred = torch.cat([torch.tensor(SAMPLE_A[0]),
                      torch.tensor(SAMPLE_B[0])], -1)
    gt = torch.cat([torch.tensor(SAMPLE_A[1]), torch.tensor(SAMPLE_B[1])], -1)
    single = _run(DepthErrorMetric(), [(pred.tolist(), gt.tolist())])
    assert single == pytest.approx(res)


def test_batches_of_several_samples():
    metric = DepthErrorMetric()
    metric.process(None, [_sample(*SAMPLE_A), _sample(*SAMPLE_B)])
    assert metric.evaluate(2)['abs_err'] == pytest.approx(5 / 6)


def test_non_positive_prediction_never_within_delta():
    # pred -1 vs gt 1: max(-1, -1) < 1.25 but must not count; pred 0 neither.
    res = _run(DepthErrorMetric(), [([[[-1., 0., 1.]]], [[[1., 1., 1.]]])])
    assert res['delta1'] == pytest.approx(100 / 3)
    assert res['abs_err'] == pytest.approx((2 + 1 + 0) / 3)


def test_prediction_resized_to_label():
    metric = DepthErrorMetric()
    metric.process(None, [
        dict(
            pred_depth_map=dict(data=torch.full((1, 2, 2), 3.)),
            gt_depth_map=dict(data=torch.full((1, 4, 6), 2.)))
    ])
    res = metric.evaluate(1)
    assert res['abs_err'] == pytest.approx(1.0)
    assert res['rel_err'] == pytest.approx(0.5)


def test_no_valid_pixel_raises():
    metric = DepthErrorMetric()
    metric.process(None, [_sample([[[1., 2.]]], [[[0., NAN]]])])
    with pytest.raises(ValueError, match='no valid depth pixel'):
        metric.evaluate(1)


def test_missing_prediction_raises_and_missing_label_skips():
    metric = DepthErrorMetric()
    metric.process(None, [dict(pred_depth_map=dict(data=torch.ones(1, 1)))])
    assert metric.results == []
    with pytest.raises(KeyError, match='pred_depth_map'):
        metric.process(None, [dict(gt_depth_map=dict(data=torch.ones(1, 1)))])


def test_registered():
    metric = METRICS.build(dict(type='DepthErrorMetric'))
    assert isinstance(metric, DepthErrorMetric)
