import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from had_mm.models.losses import DBHADLoss
from had_mm.tasks import BUILTIN_TASKS as TASK_TYPES

NAN = float('nan')


def _softmax_weighted(class_loss):
    exps = [math.exp(-v) for v in class_loss]
    return sum(e / sum(exps) * v for e, v in zip(exps, class_loss))


def test_db_semantic_hand_value():
    # C = 3, 1 x 3 x 1 x 4: teacher classes 0, 0, 1, 1; class 2 absent
    teacher = torch.tensor([[[[5., 5., 0., 0.]], [[0., 0., 5., 5.]],
                             [[0., 0., 0., 0.]]]])
    student = torch.tensor([[[[1., 0., 0., 2.]], [[0., 1., 0., 0.]],
                             [[0., 0., 0., 1.]]]])
    # per-pixel l = -log softmax(student)[teacher class]
    l0 = math.log(math.e + 2) - 1  # class 0 logit 1 of (1, 0, 0)
    l1 = math.log(math.e + 2)  # class 0 logit 0 of (0, 1, 0)
    l2 = math.log(3.)  # class 1 of (0, 0, 0)
    l3 = math.log(math.exp(2) + 1 + math.e)  # class 1 logit 0 of (2, 0, 1)
    class_loss = [math.sqrt(l0 * l1), math.sqrt(l2 * l3), 0.0]
    expected = _softmax_weighted(class_loss) / 3
    loss = DBHADLoss('semantic', num_classes=3)(student, teacher)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_db_semantic_zero_loss_pixel_excluded():
    # pixel 0's student is certain of the teacher class: l == 0 exactly
    # (float32), so it is left out of class 0's geometric mean; class 1
    # has no positive pixel and counts as absent (L_1 = 0)
    teacher = torch.tensor([[[[1., 1., 0.]], [[0., 0., 1.]]]])
    student = torch.tensor([[[[0., 0., 0.]], [[-200., 0., 200.]]]])
    loss = DBHADLoss('semantic')(student, teacher)
    l0 = math.log(2.)
    expected = _softmax_weighted([l0, 0.0]) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_db_saliency_hand_value():
    teacher = torch.tensor([[[[3., -1., 2.]]]])  # labels 1, 0, 1
    student = torch.tensor([[[[0., 1., 2.]]]])
    l_pos = [math.log(2.), math.log(1 + math.exp(-2.))]
    l_neg = math.log(1 + math.e)
    class_loss = [l_neg, math.sqrt(l_pos[0] * l_pos[1])]
    expected = _softmax_weighted(class_loss) / 2
    loss = DBHADLoss('saliency', loss_weight=2.0)(student, teacher)
    assert loss.item() == pytest.approx(2 * expected, rel=1e-6)


def _depth_pair():
    student = torch.tensor([[[[0.2, 0.4], [0.7, 0.9]]]])
    teacher = torch.tensor([[[[0.3, 0.4], [0.5, 1.5]]]])
    return student, teacher  # l = 0.1, 0, 0.2, 0.6


def test_db_depth_hand_values():
    student, teacher = _depth_pair()
    # student groups: {0.2, 0.4} -> mean(0.1, 0), {0.7, 0.9} -> mean(.2, .6)
    loss = DBHADLoss('depth')(student, teacher)
    assert loss.item() == pytest.approx(0.05 + 0.4, rel=1e-5)
    # teacher groups: {0.3, 0.4} and {1.5}; 0.5 sits on tau: no group
    loss = DBHADLoss('depth', group_by='teacher')(student, teacher)
    assert loss.item() == pytest.approx(0.05 + 0.6, rel=1e-5)
    # three bins on the student: {0.2} {0.4, 0.7} {0.9}
    loss = DBHADLoss(
        'depth', num_bins=3, bin_edges=(0.3, 0.8))(student, teacher)
    assert loss.item() == pytest.approx(0.1 + 0.1 + 0.6, rel=1e-5)


def test_db_depth_quantile_groups_hand_values():
    student, teacher = _depth_pair()
    # teacher thirds: quantiles 1/3, 2/3 of (0.3, 0.4, 0.5, 1.5) are 0.4
    # and 0.5 (linear interpolation); a value on an edge joins the lower
    # group: {0.3, 0.4} {0.5} {1.5}
    db = DBHADLoss(
        'depth', group_by='teacher', num_bins=3, bin_edges='quantile')
    loss = db(student, teacher)
    assert loss.item() == pytest.approx(0.05 + 0.2 + 0.6, rel=1e-5)


def test_db_depth_quantile_splits_where_tau_does_not():
    # every depth above tau = 0.5 m: fixed edges give one group (the plain
    # mean), quantile edges two equal halves
    student = torch.tensor([[[[1., 2., 3., 4.]]]])
    teacher = torch.tensor([[[[1.5, 2., 3.5, 6.]]]])  # l = .5, 0, .5, 2
    assert DBHADLoss('depth')(student, teacher).item() == pytest.approx(0.75)
    loss = DBHADLoss('depth', bin_edges='quantile')(student, teacher)
    assert loss.item() == pytest.approx(0.25 + 1.25, rel=1e-6)


def test_db_quantiles_ignore_invalid_pixels():
    # the invalid pixel (NaN teacher, student 100) must not move the
    # median: 2.5 on the valid pixels gives {1, 2} {3, 4}; with it, the
    # median 3 would give {1, 2, 3} {4}
    student = torch.tensor([[[[1., 2., 3., 4., 100.]]]])
    teacher = torch.tensor([[[[2., 2., 4., 6., NAN]]]])  # l = 1, 0, 1, 2
    loss = DBHADLoss('depth', bin_edges='quantile')(student, teacher)
    assert loss.item() == pytest.approx(0.5 + 1.5, rel=1e-6)


def test_db_normal_quantile_groups():
    # channel means 1/3, 0.577, 1/3 (as test_db_normal_hand_value): the
    # median 1/3 puts pixels 0 and 2 in the low group, pixel 1 high
    s = 1 / math.sqrt(3)
    student = torch.tensor([[[[1., s, 0.]], [[0., s, 1.]], [[0., s, 0.]]]])
    teacher = torch.tensor([[[[1., 0., 0.]], [[0., 0., 1.]], [[1., 1., 0.]]]])
    l_px = [0.0, 1 - s, 1 - 1 / math.sqrt(2)]
    loss = DBHADLoss('normal', bin_edges='quantile')(student, teacher)
    expected = (l_px[0] + l_px[2]) / 2 + l_px[1]
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_db_depth_empty_group_contributes_zero():
    student, teacher = _depth_pair()
    loss = DBHADLoss('depth', tau=5.0)(student, teacher)
    assert loss.item() == pytest.approx((0.1 + 0 + 0.2 + 0.6) / 4, rel=1e-5)


def test_db_normal_hand_value():
    # student channel-means (unit vectors): 1/3, 0.577, 1/3
    s = 1 / math.sqrt(3)
    student = torch.tensor([[[[1., s, 0.]], [[0., s, 1.]], [[0., s, 0.]]]])
    teacher = torch.tensor([[[[1., 0., 0.]], [[0., 0., 1.]], [[1., 1., 0.]]]])
    l_px = [0.0, 1 - s, 1 - 1 / math.sqrt(2)]
    # low group: pixels 0 and 2; high group: pixel 1
    expected = (l_px[0] + l_px[2]) / 2 + l_px[1]
    loss = DBHADLoss('normal')(student, teacher)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # everything in the low group: the empty high group adds 0, not 1
    loss = DBHADLoss('normal', tau=0.9)(student, teacher)
    assert loss.item() == pytest.approx(sum(l_px) / 3, rel=1e-5)


@pytest.mark.parametrize('task,channels', [('semantic', 5), ('depth', 1),
                                           ('normal', 3), ('saliency', 1)])
@pytest.mark.parametrize('group_by', ['student', 'teacher'])
def test_db_against_loop(task, channels, group_by, ref):
    gen = torch.Generator().manual_seed(6)
    student = torch.randn(2, channels, 4, 4, generator=gen)
    teacher = torch.randn(2, channels, 4, 4, generator=gen)
    if task == 'normal':
        # spread channel-means on both sides of tau
        student[:, :] += 0.8 * (torch.rand(2, 1, 4, 4, generator=gen) > 0.5)
    teacher[1, :, 2, 2] = NAN
    loss = DBHADLoss(task, group_by=group_by)(student, teacher)
    expected = ref.db(
        task, student.numpy(), teacher.numpy(), group_by=group_by)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_db_absent_classes_counted_in_average():
    # only class 0 present among C = 3: L = (L0, 0, 0) and the average
    # still runs over the 3 entries (reference behaviour)
    student = torch.zeros(1, 3, 1, 2)
    teacher = torch.zeros(1, 3, 1, 2)
    teacher[:, 0] = 1
    loss = DBHADLoss('semantic')(student, teacher)
    l0 = math.log(3.)
    weight = math.exp(-l0) / (math.exp(-l0) + 2)
    assert loss.item() == pytest.approx(weight * l0 / 3, rel=1e-6)


@pytest.mark.parametrize('task,channels,kwargs', [
    ('semantic', 4, {}),
    ('depth', 1, {}),
    ('normal', 3, {}),
    ('saliency', 1, {}),
    ('depth', 1, dict(bin_edges='quantile')),
    ('normal', 3, dict(bin_edges='quantile')),
])
def test_db_all_invalid_and_gradients(task, channels, kwargs):
    student = torch.randn(2, channels, 3, 3, requires_grad=True)
    teacher = torch.full((2, channels, 3, 3), NAN, requires_grad=True)
    loss = DBHADLoss(task, **kwargs)(student, teacher)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(student.grad).all()
    assert teacher.grad is None


def _naive_semantic_db(student, teacher):
    """Per-class Python loop with softmax(-L) weights detached."""
    num_classes = student.shape[1]
    log_prob = F.log_softmax(student, dim=1)
    labels = teacher.argmax(dim=1)
    class_loss = []
    for c in range(num_classes):
        sel = labels == c
        pixel_loss = -log_prob[:, c][sel]
        pixel_loss = pixel_loss[pixel_loss > 0]
        if pixel_loss.numel() == 0:
            class_loss.append(student.sum() * 0)
        else:
            class_loss.append(pixel_loss.log().mean().exp())
    class_loss = torch.stack(class_loss)
    weight = F.softmax(-class_loss.detach(), dim=0)
    return (weight * class_loss).sum() / num_classes


def test_db_semantic_vectorised_equals_loop_40_classes():
    gen = torch.Generator().manual_seed(7)
    student = torch.randn(2, 40, 16, 16, generator=gen, dtype=torch.float64)
    teacher = torch.randn(2, 40, 16, 16, generator=gen, dtype=torch.float64)
    teacher[:, 37:] -= 100  # three classes absent
    student_a = student.clone().requires_grad_()
    student_b = student.clone().requires_grad_()
    loss = DBHADLoss('semantic', num_classes=40)(student_a, teacher)
    expected = _naive_semantic_db(student_b, teacher)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    expected.backward()
    torch.testing.assert_close(
        student_a.grad, student_b.grad, rtol=1e-6, atol=1e-12)


def test_db_weights_are_detached():
    # with w detached, d loss / d L_c = w_c / C
    student = torch.tensor([[[[0.]], [[1.]]]], requires_grad=True)
    teacher = torch.tensor([[[[1.]], [[0.]]]])  # class 0, L0 = l
    loss = DBHADLoss('semantic')(student, teacher)
    loss.backward()
    l0 = math.log(1 + math.e)
    w0 = math.exp(-l0) / (math.exp(-l0) + 1)
    # d l / d z_0 = p_0 - 1, p_0 = 1 / (1 + e)
    grad_z0 = w0 / 2 * (1 / (1 + math.e) - 1)
    assert student.grad[0, 0, 0, 0].item() == pytest.approx(grad_z0, rel=1e-5)


@pytest.mark.parametrize('kwargs,match', [
    (dict(task='edge'), 'edge'),
    (dict(task='saliency', num_classes=3), 'saliency'),
    (dict(task='depth', group_by='pred'), 'group_by'),
    (dict(task='depth', num_bins=3), 'bin_edges'),
    (dict(task='depth', num_bins=3, bin_edges=(0.5, )), 'bin_edges'),
    (dict(task='depth', num_bins=3, bin_edges=(0.5, 0.2)), 'increasing'),
    (dict(task='depth', bin_edges='median'), 'quantile'),
    (dict(task='depth', num_bins=1, bin_edges='quantile'), 'num_bins'),
])
def test_db_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DBHADLoss(**kwargs)


def test_db_num_classes_mismatch():
    loss = DBHADLoss('semantic', num_classes=3)
    with pytest.raises(ValueError, match='num_classes'):
        loss(torch.zeros(1, 4, 2, 2), torch.zeros(1, 4, 2, 2))


def test_db_task_types_all_buildable():
    for task in TASK_TYPES:
        assert DBHADLoss(task).task == task


def test_db_loop_reference_sanity(ref):
    # the loop reference itself on a case written out by hand
    loss_map = np.array([[[0.1, 0.0, 0.2, 0.6]]])
    valid = np.ones_like(loss_map, dtype=bool)
    values = np.array([[[0.2, 0.4, 0.7, 0.9]]])
    assert ref.db_groups(loss_map, valid, values, [0.5]) == pytest.approx(0.45)
