import numpy as np
import pytest
import torch

from had_mm.models.losses import SGHADLoss
from had_mm.tasks import BUILTIN_TASKS as TASK_TYPES

NAN = float('nan')


def _depth_row(values):
    """Student depth 1 x 1 x 1 x W and a zero teacher: l = |values|."""
    student = torch.tensor([[[values]]], dtype=torch.float32)
    return student, torch.zeros_like(student)


def test_sg_hand_values_row():
    # one row, zero padding: only the middle Kx row sees pixels, so
    # E_j = 2 |l_{j+1} - l_{j-1}|: l = (1, 2, 4) -> E = (4, 6, 4),
    # E~ = (0, 1, 0)
    student, teacher = _depth_row([1., 2., 4.])
    assert SGHADLoss('depth')(student, teacher).item() == pytest.approx(2.)
    less = SGHADLoss('depth', mode='less')(student, teacher)
    assert less.item() == pytest.approx((1. + 4.) / 2)
    band = SGHADLoss('depth', mode='band', band=(0.5, 1.0))
    assert band(student, teacher).item() == pytest.approx(2.)
    # l = (0, 1, 0, 3) -> E = (2, 0, 4, 0), E~ = (0.5, 0, 1, 0):
    # E~ < 0.9 keeps pixels 0, 1, 3, and the l = 0 one does not count
    student, teacher = _depth_row([0., 1., 0., 3.])
    less = SGHADLoss('depth', mode='less')(student, teacher)
    assert less.item() == pytest.approx((1. + 3.) / 2)


def test_sg_hand_values_impulse():
    # l = impulse at the centre of 3 x 3: E = 2 on the edge middles,
    # sqrt(2) on the corners, 0 at the centre
    student = torch.zeros(1, 1, 3, 3)
    student[0, 0, 1, 1] = 1.
    teacher = torch.zeros_like(student)
    # E~ > 0.9 selects the edge middles where l = 0: empty -> 0
    greater = SGHADLoss('depth')(student, teacher)
    assert greater.item() == 0.0
    less = SGHADLoss('depth', mode='less', threshold=0.5)(student, teacher)
    assert less.item() == pytest.approx(1.)
    corners = SGHADLoss('depth', mode='band', band=(0.6, 0.8))
    assert corners(student, teacher).item() == 0.0


def test_sg_constant_loss_map():
    # a single pixel: E = 0 = max = min -> E~ = 0
    student, teacher = _depth_row([2.])
    teacher += 0.5
    assert SGHADLoss('depth')(student, teacher).item() == 0.0
    less = SGHADLoss('depth', mode='less')(student, teacher)
    assert less.item() == pytest.approx(1.5)
    # l == 0 everywhere
    student = torch.ones(2, 1, 4, 4, requires_grad=True)
    loss = SGHADLoss('depth', mode='less')(student, student.detach())
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(student.grad).all()


@pytest.mark.parametrize('task,channels', [('semantic', 4), ('depth', 1),
                                           ('normal', 3), ('saliency', 1)])
@pytest.mark.parametrize('mode', ['greater', 'less', 'band'])
def test_sg_against_loop(task, channels, mode, ref):
    gen = torch.Generator().manual_seed(8)
    student = torch.randn(2, channels, 5, 5, generator=gen)
    teacher = torch.randn(2, channels, 5, 5, generator=gen)
    teacher[0, :, 2, 3] = NAN
    band = (0.3, 0.7) if mode == 'band' else None
    threshold = 0.6 if mode == 'greater' else 0.9
    loss = SGHADLoss(
        task, threshold=threshold, mode=mode, band=band)(student, teacher)
    loss_map, valid = ref.loss_map(task, student.numpy(), teacher.numpy())
    expected = ref.sg(loss_map, valid, threshold, mode, band)
    assert expected > 0
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_sg_mask_is_per_image(ref):
    gen = torch.Generator().manual_seed(9)
    # image 0 has a 100x larger loss: a batch-wide min-max (or a
    # B x B broadcast of the masks) would change image 1's selection
    student = torch.rand(2, 1, 6, 6, generator=gen)
    student[0] *= 100
    teacher = torch.zeros_like(student)
    sg = SGHADLoss('depth', threshold=0.5)
    loss_map = student[:, 0]
    mask = sg.salience_mask(loss_map)
    for b in range(2):
        alone = sg.salience_mask(loss_map[b:b + 1])[0]
        assert torch.equal(mask[b], alone)
    changed = loss_map.clone()
    changed[0] = torch.rand(6, 6, generator=gen)
    assert torch.equal(sg.salience_mask(changed)[1], mask[1])
    assert mask[1].any()
    # loss = both images' masked pixels pooled, each with its own mask
    expected_mask = ref.sg_mask(loss_map.numpy(), 0.5)
    assert np.array_equal(mask.numpy(), expected_mask)
    values = loss_map.numpy()[expected_mask]
    assert sg(student, teacher).item() == pytest.approx(
        values.sum() / values.size, rel=1e-5)


def test_sg_gradient_only_on_masked_pixels():
    student, teacher = _depth_row([1., 2., 4.])
    student.requires_grad_()
    teacher.requires_grad_()
    SGHADLoss('depth')(student, teacher).backward()
    assert student.grad[0, 0, 0].tolist() == [0., 1., 0.]
    assert teacher.grad is None


@pytest.mark.parametrize('task,channels', [('semantic', 4), ('depth', 1),
                                           ('normal', 3), ('saliency', 1)])
def test_sg_all_invalid(task, channels):
    student = torch.randn(2, channels, 3, 3, requires_grad=True)
    teacher = torch.full((2, channels, 3, 3), NAN)
    loss = SGHADLoss(task, mode='less')(student, teacher)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(student.grad).all()


@pytest.mark.parametrize('kwargs,match', [
    (dict(task='edge'), 'edge'),
    (dict(task='depth', mode='above'), 'mode'),
    (dict(task='depth', mode='band'), 'band'),
    (dict(task='depth', mode='band', band=(0.8, 0.2)), 'band'),
])
def test_sg_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGHADLoss(**kwargs)


def test_sg_loss_names():
    for task in TASK_TYPES:
        assert SGHADLoss(task).loss_name == 'loss_sg_had'
