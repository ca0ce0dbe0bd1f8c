import pytest
import torch

from had_mm.models.losses import (DBHADLoss, HADLoss, PixelDistillLoss,
                                  SGHADLoss)
from had_mm.tasks import BUILTIN_TASKS as TASK_TYPES

NAN = float('nan')
CHANNELS = dict(semantic=4, depth=1, normal=3, saliency=1)


def _pair(task, seed=10):
    gen = torch.Generator().manual_seed(seed)
    shape = (2, CHANNELS[task], 5, 5)
    student = torch.randn(shape, generator=gen)
    teacher = torch.randn(shape, generator=gen)
    teacher[1, :, 0, 0] = NAN
    return student, teacher


def test_had_depth_hand_value():
    # l = (0.1, 0, 0.2, 0.6) in one row; DB on student depth at 0.5:
    # mean(0.1, 0) + mean(0.2, 0.6) = 0.45.
    # SG: E_j = 2 |l_{j+1} - l_{j-1}| = (0, 0.2, 1.2, 0.4)
    # -> E~ = (0, 1/6, 1, 1/3), E~ > 0.9 -> pixel 2 -> 0.2
    student = torch.tensor([[[[0.2, 0.4, 0.7, 0.9]]]])
    teacher = torch.tensor([[[[0.3, 0.4, 0.5, 1.5]]]])
    loss = HADLoss('depth', loss_weight=3.0)(student, teacher)
    assert loss.item() == pytest.approx(3 * (0.45 + 0.2) / 2, rel=1e-5)


def test_had_quantile_db_from_config():
    # every depth above tau: DB on quantile halves, (0.25 + 1.25), not the
    # plain mean 0.75; SG: E_j = 2 |l_{j+1} - l_{j-1}| = (0, 0, 4, 1)
    # (zero padding), E~ > 0.9 -> pixel 2 -> 0.5
    from had_mm.registry import MODELS
    student = torch.tensor([[[[1., 2., 3., 4.]]]])
    teacher = torch.tensor([[[[1.5, 2., 3.5, 6.]]]])  # l = .5, 0, .5, 2
    loss = MODELS.build(
        dict(type='HADLoss', task='depth', bin_edges='quantile'))
    assert loss(student, teacher).item() == pytest.approx((1.5 + 0.5) / 2)


@pytest.mark.parametrize('task', TASK_TYPES)
def test_had_against_loop(task, ref):
    student, teacher = _pair(task)
    loss = HADLoss(task)(student, teacher)
    loss_map, valid = ref.loss_map(task, student.numpy(), teacher.numpy())
    db = ref.db(task, student.numpy(), teacher.numpy())
    sg = ref.sg(loss_map, valid)
    assert loss.item() == pytest.approx((db + sg) / 2, rel=1e-5)
    db_only = HADLoss(task, use_sg=False)(student, teacher)
    assert db_only.item() == pytest.approx(db, rel=1e-5)
    sg_only = HADLoss(task, use_db=False)(student, teacher)
    assert sg_only.item() == pytest.approx(sg, rel=1e-5)
    plain = HADLoss(task, use_db=False, use_sg=False)(student, teacher)
    assert plain.item() == pytest.approx(
        ref.plain(task, student.numpy(), teacher.numpy()), rel=1e-5)


@pytest.mark.parametrize('task', TASK_TYPES)
def test_had_composes_parts(task):
    student, teacher = _pair(task, seed=11)
    kwargs = dict(tau=0.3, threshold=0.7)
    both = HADLoss(task, loss_weight=2.0, **kwargs)(student, teacher)
    db = DBHADLoss(task, tau=0.3)(student, teacher)
    sg = SGHADLoss(task, threshold=0.7)(student, teacher)
    assert both.item() == pytest.approx((db + sg).item(), rel=1e-6)
    plain = HADLoss(task, use_db=False, use_sg=False)(student, teacher)
    assert plain.item() == pytest.approx(
        PixelDistillLoss(task)(student, teacher).item(), rel=1e-6)


@pytest.mark.parametrize('task', TASK_TYPES)
def test_had_gradient_student_only(task):
    student, teacher = _pair(task, seed=12)
    student.requires_grad_()
    teacher.requires_grad_()
    loss = HADLoss(task)(student, teacher)
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().sum() > 0


@pytest.mark.parametrize('task', TASK_TYPES)
@pytest.mark.parametrize('use_db,use_sg', [(True, True), (True, False),
                                           (False, True), (False, False)])
def test_had_all_invalid(task, use_db, use_sg):
    student = torch.randn(2, CHANNELS[task], 3, 3, requires_grad=True)
    teacher = torch.full_like(student, NAN)
    loss = HADLoss(task, use_db=use_db, use_sg=use_sg)(student, teacher)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(student.grad).all()


def test_had_unknown_task():
    with pytest.raises(ValueError) as err:
        HADLoss('edges')
    assert "'edges'" in str(err.value)
    assert "'saliency'" in str(err.value)


def test_had_loss_parts():
    loss = HADLoss('semantic', use_sg=False)
    assert isinstance(loss.db_loss, DBHADLoss) and loss.sg_loss is None
