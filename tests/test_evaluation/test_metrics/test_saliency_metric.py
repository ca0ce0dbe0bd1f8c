import numpy as np
import pytest
import torch

from had_mm.evaluation import SaliencyMetric
from had_mm.registry import METRICS


def _sample(pred, gt):
    return dict(
        pred_saliency=dict(data=torch.as_tensor(pred, dtype=torch.float32)),
        gt_saliency=dict(data=torch.as_tensor(gt, dtype=torch.uint8)))


def _brute_force(preds, gts, beta2=0.3, ignore_index=255):
    """Per-threshold loop over the pooled pixels of the set."""
    p = np.concatenate([np.asarray(x, np.float32).ravel() for x in preds])
    g = np.concatenate([np.asarray(x).ravel() for x in gts])
    keep = g != ignore_index
    p, g = p[keep].astype(np.float64), g[keep] == 1
    fs = []
    iou = None
    for k in range(1, 20):
        thr = k / 20
        pos = p > thr
        tp = np.sum(pos & g)
        fp = np.sum(pos & ~g)
        fn = np.sum(~pos & g)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        den = beta2 * prec + rec
        fs.append((1 + beta2) * prec * rec / den if den else 0.0)
        if k == 10:
            iou = tp / (tp + fp + fn) if tp + fp + fn else 0.0
    return 100 * max(fs), 100 * iou


def test_hand_computed_strict_threshold():
    # Values exact in float32. The ignored pixel (0.95, 255) never counts.
    pred = [[[0.875, 0.625, 0.25, 0.5, 0.95]]]
    gt = [[[1, 0, 1, 0, 255]]]
    metric = SaliencyMetric()
    metric.process(None, [_sample(pred, gt)])
    res = metric.evaluate(1)
    # thr 0.05-0.2: P 1/2, R 1 -> F 0.5652; thr 0.25-0.45: P 1/3, R 1/2
    # -> 0.3611; thr 0.5-0.6: P 1/2, R 1/2 -> 0.5; thr 0.65-0.85: P 1,
    # R 1/2 -> 1.3 * 0.5 / (0.3 + 0.5) = 0.8125; thr 0.9, 0.95: 0.
    assert res['max_f'] == pytest.approx(81.25)
    # at 0.5 with p > t: TP 1 (0.875), FP 1 (0.625), FN 1 (0.25);
    # 0.5 itself is negative (p >= t would give 25).
    assert res['iou'] == pytest.approx(100 / 3)


def test_matches_brute_force_over_several_batches():
    rng = np.random.default_rng(0)
    preds, gts = [], []
    for shape in [(1, 6, 7), (1, 5, 9), (1, 8, 3), (1, 4, 4)]:
        p = rng.random(shape).astype(np.float32)
        # include values exactly on thresholds
        p.flat[:6] = [0.05, 0.25, 0.5, 0.75, 0.0, 1.0]
        g = (rng.random(shape) < 0.4).astype(np.uint8)
        g[rng.random(shape) < 0.1] = 255
        preds.append(p)
        gts.append(g)
    metric = SaliencyMetric()
    metric.process(None, [_sample(p, g) for p, g in zip(preds[:2], gts[:2])])
    metric.process(None, [_sample(p, g) for p, g in zip(preds[2:], gts[2:])])
    res = metric.evaluate(4)
    max_f, iou = _brute_force(preds, gts)
    assert res['max_f'] == pytest.approx(max_f, abs=1e-9)
    assert res['iou'] == pytest.approx(iou, abs=1e-9)

    # pooled over the set, not the mean of per-image values
    per_image = [_brute_force([p], [g]) for p, g in zip(preds, gts)]
    assert res['max_f'] != pytest.approx(
        np.mean([f for f, _ in per_image]), abs=1e-6)


def test_constant_prediction_and_float_labels():
    # All predicted 0.7; labels given as float {0., 1.}.
    metric = SaliencyMetric()
    metric.process(None, [
        dict(
            pred_saliency=dict(data=torch.full((1, 2, 2), 0.7)),
            gt_saliency=dict(data=torch.tensor([[[1., 1.], [0., 0.]]])))
    ])
    res = metric.evaluate(1)
    # thr < 0.7: P 1/2, R 1 -> F 0.565217; above: nothing predicted -> 0
    assert res['max_f'] == pytest.approx(100 * 0.65 / 1.15)
    assert res['iou'] == pytest.approx(50.0)


def test_prediction_resized_to_label():
    metric = SaliencyMetric()
    metric.process(None, [
        dict(
            pred_saliency=dict(data=torch.full((1, 2, 2), 0.9)),
            gt_saliency=dict(data=torch.ones(1, 4, 4, dtype=torch.uint8)))
    ])
    res = metric.evaluate(1)
    assert res['max_f'] == pytest.approx(100.0)
    assert res['iou'] == pytest.approx(100.0)


def test_no_valid_pixel_raises():
    metric = SaliencyMetric()
    metric.process(None, [_sample([[[0.3]]], [[[255]]])])
    with pytest.raises(ValueError, match='no valid saliency pixel'):
        metric.evaluate(1)


def test_registered():
    assert isinstance(
        METRICS.build(dict(type='SaliencyMetric')), SaliencyMetric)
