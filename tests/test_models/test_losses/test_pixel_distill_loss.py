import math

import pytest
import torch

from had_mm.models.losses import PixelDistillLoss
from had_mm.tasks import BUILTIN_TASKS as TASK_TYPES

NAN = float('nan')
CHANNELS = dict(semantic=3, depth=1, normal=3, saliency=1)


def test_pixel_distill_hand_values():
    depth = PixelDistillLoss('depth')
    student = torch.tensor([[[[1., 2.], [3., 4.]]]])
    teacher = torch.tensor([[[[1., 1.], [1., NAN]]]])
    assert depth(student, teacher).item() == pytest.approx((0 + 1 + 2) / 3)

    semantic = PixelDistillLoss('semantic', loss_weight=2.0)
    student = torch.tensor([[[[0., 1.]], [[2., 1.]]]])
    teacher = torch.tensor([[[[0., 3.]], [[1., 2.]]]])
    expected = (math.log(1 + math.exp(-2.)) + math.log(2.)) / 2
    assert semantic(student, teacher).item() == pytest.approx(
        2 * expected, rel=1e-6)

    normal = PixelDistillLoss('normal')
    student = torch.tensor([[[[1., 0.]], [[0., 0.]], [[0., 1.]]]])
    teacher = torch.tensor([[[[0., 0.]], [[1., 0.]], [[0., 2.]]]])
    assert normal(student, teacher).item() == pytest.approx((1 + 0) / 2)

    saliency = PixelDistillLoss('saliency')
    student = torch.tensor([[[[0., 2.]]]])
    teacher = torch.tensor([[[[5., -1.]]]])  # labels 1, 0
    expected = (math.log(2.) + math.log(1 + math.exp(2.))) / 2
    assert saliency(student, teacher).item() == pytest.approx(
        expected, rel=1e-6)


@pytest.mark.parametrize('task', TASK_TYPES)
def test_pixel_distill_against_loop(task, ref):
    gen = torch.Generator().manual_seed(5)
    shape = (2, CHANNELS[task], 4, 4)
    student = torch.randn(shape, generator=gen, requires_grad=True)
    teacher = torch.randn(shape, generator=gen, requires_grad=True)
    loss = PixelDistillLoss(task)(student, teacher)
    expected = ref.plain(task,
                         student.detach().numpy(),
                         teacher.detach().numpy())
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert student.grad is not None and teacher.grad is None


@pytest.mark.parametrize('task', TASK_TYPES)
def test_pixel_distill_all_invalid(task):
    student = torch.randn(1, CHANNELS[task], 2, 2, requires_grad=True)
    teacher = torch.full((1, CHANNELS[task], 2, 2), NAN)
    loss = PixelDistillLoss(task)(student, teacher)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(student.grad).all()


def test_pixel_distill_unknown_task():
    with pytest.raises(ValueError, match="'edge'.*'semantic'"):
        PixelDistillLoss('edge')
