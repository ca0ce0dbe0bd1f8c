"""DKDLoss, HintLoss and HCLLoss against values computed by plain loops."""
import math

import pytest
import torch

from projects.kdp.kdp.models import DKDLoss, HCLLoss, HintLoss, soft_kl

STUDENT = [[1.0, -0.5, 2.0, 0.3], [0.2, 0.9, -1.2, 1.5]]
TEACHER = [[3.0, 0.5, 1.0, -1.0], [-0.4, 2.2, 0.1, 0.7]]
TARGET = [2, 1]


def _softmax(row, temp):
    exps = [math.exp(v / temp) for v in row]
    return [e / sum(exps) for e in exps]


def _kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


def _dkd_by_hand(student, teacher, target, temp):
    """TCKD and NCKD, each times T^2, batch mean: the non-target
    distribution as ``p_i / (1 - p_y)`` (DKD paper, Eq. 2)."""
    tckd = nckd = 0.
    for s_row, t_row, y in zip(student, teacher, target):
        ps, pt = _softmax(s_row, temp), _softmax(t_row, temp)
        tckd += _kl([pt[y], 1 - pt[y]], [ps[y], 1 - ps[y]])
        hat_s = [p / (1 - ps[y]) for i, p in enumerate(ps) if i != y]
        hat_t = [p / (1 - pt[y]) for i, p in enumerate(pt) if i != y]
        nckd += _kl(hat_t, hat_s)
    n = len(target)
    return tckd / n * temp**2, nckd / n * temp**2


@pytest.mark.parametrize('temp', [1.0, 4.0])
def test_dkd_terms_by_hand(temp):
    loss = DKDLoss(alpha=1.0, beta=8.0, temperature=temp)
    tckd, nckd = loss.decoupled(
        torch.tensor(STUDENT), torch.tensor(TEACHER), torch.tensor(TARGET))
    hand_t, hand_n = _dkd_by_hand(STUDENT, TEACHER, TARGET, temp)
    assert tckd.item() == pytest.approx(hand_t, rel=1e-5)
    assert nckd.item() == pytest.approx(hand_n, rel=1e-5)
    total = loss(
        torch.tensor(STUDENT), torch.tensor(TEACHER), torch.tensor(TARGET))
    assert total.item() == pytest.approx(hand_t + 8 * hand_n, rel=1e-5)


def test_dkd_decomposes_kd():
    # one image: T^2 KL = TCKD + (1 - p_t(y)) NCKD (DKD paper, Eq. 7)
    s, t, y = STUDENT[:1], TEACHER[:1], TARGET[:1]
    tckd, nckd = DKDLoss(temperature=2.0).decoupled(
        torch.tensor(s), torch.tensor(t), torch.tensor(y))
    kd = soft_kl(torch.tensor(s), torch.tensor(t), 2.0)
    p_target = _softmax(t[0], 2.0)[y[0]]
    assert kd.item() == pytest.approx(
        tckd.item() + (1 - p_target) * nckd.item(), rel=1e-5)


def test_dkd_gradients_and_edge_cases():
    student = torch.tensor(STUDENT, requires_grad=True)
    teacher = torch.tensor(TEACHER, requires_grad=True)
    DKDLoss()(student, teacher, torch.tensor(TARGET)).backward()
    assert student.grad.abs().sum() > 0 and teacher.grad is None
    # the same logits: both terms 0; one class: nothing to distil
    same = DKDLoss().decoupled(teacher, teacher, torch.tensor(TARGET))
    assert all(abs(v.item()) < 1e-6 for v in same)
    one = DKDLoss().decoupled(
        torch.ones(2, 1), torch.zeros(2, 1), torch.zeros(2, dtype=torch.long))
    assert [v.item() for v in one] == [0, 0]
    with pytest.raises(ValueError, match='beta=-1'):
        DKDLoss(beta=-1)
    with pytest.raises(ValueError, match='B x C'):
        DKDLoss()(torch.ones(2, 3), torch.ones(2, 4), torch.tensor([0, 1]))


def test_hint_loss_by_hand():
    pred = [[[0.5, -1.0], [2.0, 0.0]], [[1.0, 1.0], [-0.5, 3.0]]]
    target = [[[0.0, -1.0], [1.0, 1.0]], [[2.0, 0.0], [0.5, 1.0]]]
    diffs = [(a - b)**2 for pa, ta in zip(pred, target)
             for pr, tr in zip(pa, ta) for a, b in zip(pr, tr)]
    loss = HintLoss(loss_weight=0.1)(torch.tensor(pred), torch.tensor(target))
    assert loss.item() == pytest.approx(0.1 * sum(diffs) / len(diffs))
    with pytest.raises(ValueError, match='differ in shape'):
        HintLoss()(torch.ones(2, 3), torch.ones(2, 4))


def _mse(a, b):
    return sum((x - y)**2 for x, y in zip(a, b)) / len(a)


def _pool(grid, size):
    """Adaptive average pooling of an ``n x n`` grid to ``size x size`` for
    ``n`` a multiple of ``size``."""
    n = len(grid)
    step = n // size
    return [
        sum(grid[r * step + i][c * step + j] for i in range(step)
            for j in range(step)) / step**2 for r in range(size)
        for c in range(size)
    ]


def test_hcl_loss_by_hand():
    torch.manual_seed(0)
    fs, ft = torch.randn(1, 1, 4, 4), torch.randn(1, 1, 4, 4)
    cs, ct = torch.randn(1, 3, 1, 1), torch.randn(1, 3, 1, 1)
    gs, gt = fs[0, 0].tolist(), ft[0, 0].tolist()
    flat = [v for row in gs for v in row], [v for row in gt for v in row]
    # 4 x 4: size 4 skipped (not smaller than the map), 2 (1/2), 1 (1/4)
    grid_loss = (_mse(*flat) + 0.5 * _mse(_pool(gs, 2), _pool(gt, 2)) +
                 0.25 * _mse(_pool(gs, 1), _pool(gt, 1))) / 1.75
    # 1 x 1: the plain MSE
    cls_loss = _mse(cs.flatten().tolist(), ct.flatten().tolist())
    loss = HCLLoss(loss_weight=2.0)([fs, cs], [ft, ct])
    assert loss.item() == pytest.approx(2 * (grid_loss + cls_loss), rel=1e-5)
    with pytest.raises(ValueError, match='as many'):
        HCLLoss()([fs], [ft, ct])
    with pytest.raises(ValueError, match='one shape'):
        HCLLoss()([fs], [cs])
