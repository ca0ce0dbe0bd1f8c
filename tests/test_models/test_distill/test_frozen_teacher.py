"""FrozenTeacherMixin: the one teacher protocol of the distilling models."""
import copy

import pytest
import torch
import torch.nn as nn
from distill_helpers import TINY_TEACHER, build
from mmengine.optim import build_optim_wrapper
from tiny_model import tiny_predictor_cfg

from had_mm.models.distill import FrozenTeacherMixin
from had_mm.registry import MODELS


def _losses(tasks=('semantic', )):
    return {t: MODELS.build(dict(type='HADLoss', task=t)) for t in tasks}


def _predictor():
    torch.manual_seed(0)
    return build(tiny_predictor_cfg(('semantic', 'depth')))


def check_frozen_teacher(model: nn.Module, teacher: nn.Module, attach) -> None:
    """The protocol on one model: ``attach(model, teacher)`` attaches."""
    keys = list(model.state_dict())
    num_params = len(list(model.parameters()))
    attach(model, teacher)
    assert model.teacher is teacher
    # frozen, and kept in eval mode by the student's train()
    assert not any(p.requires_grad for p in teacher.parameters())
    model.train()
    assert model.training and not any(m.training for m in teacher.modules())
    # not a child: no state dict key, parameter, module or optimizer entry
    assert list(model.state_dict()) == keys
    assert len(list(model.parameters())) == num_params
    assert all(m is not teacher for m in model.modules())
    optim = build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    in_optim = {
        id(p)
        for group in optim.optimizer.param_groups
        for p in group['params']
    }
    assert not in_optim & {id(p) for p in teacher.parameters()}
    # .to() / .double() / .float() of the student move the teacher along
    model.double()
    assert {p.dtype for p in teacher.parameters()} == {torch.float64}
    model.to(torch.float32)
    assert {p.dtype for p in teacher.parameters()} == {torch.float32}
    # a model is not its own teacher, nor one of its modules
    with pytest.raises(ValueError, match='own teacher'):
        attach(model, model)
    child = next(iter(model.children()))
    with pytest.raises(ValueError, match='one of its modules'):
        attach(model, child)
    assert model.teacher is teacher
    # detach: the teacher is gone, the model is as before
    assert model.detach_teacher() is teacher
    assert model.teacher is None
    assert list(model.state_dict()) == keys
    model.double()  # a detached teacher is not moved any more
    assert {p.dtype for p in teacher.parameters()} == {torch.float32}
    model.float()


def test_predictor_protocol():
    model = _predictor()
    check_frozen_teacher(
        model, copy.deepcopy(model),
        lambda m, t: m.attach_teacher(t, losses=_losses(), weight=3.0))
    # its own arguments are checked before anything changes
    teacher = copy.deepcopy(model)
    with pytest.raises(ValueError, match='no head for'):
        model.attach_teacher(teacher, losses=_losses(['normal']))
    with pytest.raises(ValueError, match='needs losses'):
        model.attach_teacher(teacher)
    with pytest.raises(TypeError):
        model.attach_teacher(teacher, _losses())  # arguments by name only
    assert model.teacher is None
    assert all(p.requires_grad for p in teacher.parameters())


def test_a_copy_with_a_teacher_loses_its_own():
    model = _predictor()
    first = copy.deepcopy(model)
    model.attach_teacher(first, losses=_losses())
    second = copy.deepcopy(model)  # the teacher is copied along
    assert second.teacher is not None
    model.attach_teacher(second, losses=_losses())
    assert second.teacher is None and model.teacher is second


def test_a_teacher_sharing_parameters_is_refused():

    class Wrapper(nn.Module):

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

    model = _predictor()
    with pytest.raises(ValueError, match='contains this model'):
        model.attach_teacher(Wrapper(model), losses=_losses())
    shared = copy.deepcopy(model)
    shared.backbone = model.backbone
    with pytest.raises(ValueError, match='shares parameters'):
        model.attach_teacher(shared, losses=_losses())
    assert model.teacher is None


def test_unexpected_arguments_are_refused():

    class Plain(FrozenTeacherMixin, nn.Module):
        pass

    with pytest.raises(TypeError, match='unexpected arguments'):
        Plain().attach_teacher(nn.Linear(1, 1), weight=1.0)


def test_the_distillers_built_teacher_follows_the_protocol(
        teacher_ckpt, distill_cfg):
    # HeteroLifelongTeacher and HeteroAKDDistiller hold their frozen model
    # through the same mixin
    hetero = build(
        dict(
            type='HeteroLifelongTeacher',
            teacher_cfg=TINY_TEACHER,
            teacher_ckpt=teacher_ckpt,
            recorders=dict(
                stages=dict(type='ModuleOutputsRecorder', source='backbone')),
            stages=[dict(recorder='stages', data_idx=3)],
            channels=8))
    distiller = build(distill_cfg)
    for model in (hetero, distiller):
        assert isinstance(model, FrozenTeacherMixin)
        frozen = model.teacher
        assert not any(p.requires_grad for p in frozen.parameters())
        assert not any(k.startswith('teacher.') for k in model.state_dict())
        model.train()
        assert not any(m.training for m in frozen.modules())
        model.double()
        assert {p.dtype for p in frozen.parameters()} == {torch.float64}
        model.float()


def test_the_teacher_follows_the_students_device():
    # the meta device stands in for a GPU: .to(device) moves the teacher's
    # weights and tells its data preprocessor (mmengine's _set_device)
    model = _predictor()
    teacher = copy.deepcopy(model)
    model.attach_teacher(teacher, losses=_losses())
    model.to('meta')
    assert {p.device.type for p in teacher.parameters()} == {'meta'}
    assert teacher.data_preprocessor.device == torch.device('meta')


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_moves_the_teacher():
    model = _predictor()
    teacher = copy.deepcopy(model)
    model.attach_teacher(teacher, losses=_losses())
    model.cuda()
    assert {p.device.type for p in teacher.parameters()} == {'cuda'}
    assert teacher.data_preprocessor.device.type == 'cuda'
    model.cpu()
    assert {p.device.type for p in teacher.parameters()} == {'cpu'}
