import pytest
import torch

from had_mm.evaluation import SemanticIoUMetric
from had_mm.registry import METRICS


def _sample(pred, gt):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred, dtype=torch.long)),
        gt_sem_seg=dict(data=torch.tensor(gt, dtype=torch.long)))


# (gt, pred) pixels: A: (0,0) (0,1) (1,1) and an ignored one predicted 2;
# B: (2,2) (2,0) (0,0) (1,1). Class 3 appears nowhere.
SAMPLE_A = ([[[0, 1], [1, 2]]], [[[0, 0], [1, 255]]])
SAMPLE_B = ([[[2, 0], [0, 1]]], [[[2, 2], [0, 1]]])


def test_hand_computed_absent_class_left_out():
    metric = SemanticIoUMetric(
        num_classes=4, class_names=['wall', 'floor', 'bed', 'sofa'])
    metric.process(None, [_sample(*SAMPLE_A)])
    metric.process(None, [_sample(*SAMPLE_B)])
    res = metric.evaluate(2)
    # wall: I 2, pred 3, gt 3 -> 2/4; floor: I 2, pred 3, gt 2 -> 2/3;
    # bed: I 1, pred 1, gt 2 -> 1/2; sofa: absent -> NaN, left out.
    assert res['IoU.wall'] == pytest.approx(50.0)
    assert res['IoU.floor'] == pytest.approx(200 / 3)
    assert res['IoU.bed'] == pytest.approx(50.0)
    assert res['IoU.sofa'] != res['IoU.sofa']  # NaN
    assert res['mIoU'] == pytest.approx(100 * (0.5 + 2 / 3 + 0.5) / 3)
    assert res['aAcc'] == pytest.approx(100 * 5 / 7)
    # the mean of per-image mIoUs would be (0.5 + 2/3) / 2
    assert res['mIoU'] != pytest.approx(100 * (0.5 + 2 / 3) / 2)


def test_one_confusion_over_the_set_equals_concatenation():
    pred = torch.cat([torch.tensor(SAMPLE_A[0]),
                      torch.tensor(SAMPLE_B[0])], -1)
    gt = torch.cat([torch.tensor(SAMPLE_A[1]), torch.tensor(SAMPLE_B[1])], -1)
    single = SemanticIoUMetric(num_classes=4)
    single.process(None, [_sample(pred.tolist(), gt.tolist())])
    pooled = SemanticIoUMetric(num_classes=4)
    pooled.process(None, [_sample(*SAMPLE_A), _sample(*SAMPLE_B)])
    a, b = single.evaluate(1), pooled.evaluate(2)
    assert set(a) == set(b) == {
        'mIoU', 'aAcc', 'IoU.0', 'IoU.1', 'IoU.2', 'IoU.3'
    }
    for key in ('mIoU', 'aAcc', 'IoU.0', 'IoU.1', 'IoU.2'):
        assert a[key] == pytest.approx(b[key])


def test_classes_from_dataset_meta_and_nearest_resize():
    metric = SemanticIoUMetric()
    metric.dataset_meta = dict(classes=('a', 'b'))
    metric.process(None, [
        dict(
            pred_sem_seg=dict(data=torch.tensor([[[0, 1]]])),
            gt_sem_seg=dict(data=torch.tensor([[[0, 0, 1, 1]]])))
    ])
    res = metric.evaluate(1)
    assert res['IoU.a'] == pytest.approx(100.0)
    assert res['IoU.b'] == pytest.approx(100.0)
    assert res['aAcc'] == pytest.approx(100.0)


def test_errors():
    with pytest.raises(ValueError):
        SemanticIoUMetric(num_classes=3, class_names=['a'])
    metric = SemanticIoUMetric(num_classes=2)
    metric.process(None, [_sample([[[0]]], [[[255]]])])
    with pytest.raises(ValueError, match='no valid semantic pixel'):
        metric.evaluate(1)
    with pytest.raises(ValueError, match='num_classes'):
        SemanticIoUMetric().num_classes


def test_registered():
    metric = METRICS.build(dict(type='SemanticIoUMetric', num_classes=3))
    assert metric.num_classes == 3
