"""PromptContinualClassifier and ContinualDistiller on had_mm's one teacher
protocol (FrozenTeacherMixin)."""
import pytest
import torch
from kdp_tiny_models import (ARCH, ARCH_WIDE, build, classifier_cfg, images,
                             samples, vit_cfg)
from mmengine.optim import build_optim_wrapper

from had_mm.models.distill import FrozenTeacherMixin


def _dtypes(model):
    return {p.dtype for p in model.parameters()}


def test_classifier_protocol():
    torch.manual_seed(0)
    teacher = build(classifier_cfg())
    student = build(classifier_cfg(distill=dict(type='LogitKD')))
    assert isinstance(student, FrozenTeacherMixin)
    keys = list(student.state_dict())
    student.begin_task(1, 4, (2, 4))
    teacher.begin_task(1, 4, (2, 4))
    student.attach_teacher(teacher)
    assert student.teacher is teacher
    assert not any(p.requires_grad for p in teacher.parameters())
    student.train()
    assert not any(m.training for m in teacher.modules())
    assert list(student.state_dict()) == keys
    assert all(m is not teacher for m in student.modules())
    optim = build_optim_wrapper(
        student, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    in_optim = {
        id(p)
        for g in optim.optimizer.param_groups
        for p in g['params']
    }
    assert not in_optim & {id(p) for p in teacher.parameters()}
    assert 'loss_kd' in student.loss(images(2), samples([2, 3]))
    # .double() / .to() of the student move the teacher along
    student.double()
    assert _dtypes(teacher) == {torch.float64}
    student.to(torch.float32)
    assert _dtypes(teacher) == {torch.float32}
    with pytest.raises(ValueError, match='own teacher'):
        student.attach_teacher(student)
    with pytest.raises(ValueError, match='one of its modules'):
        student.attach_teacher(student.backbone)
    with pytest.raises(TypeError, match='PromptContinualClassifier'):
        student.attach_teacher(torch.nn.Linear(2, 2))
    assert student.teacher is teacher
    assert student.detach_teacher() is teacher and student.teacher is None
    with pytest.raises(RuntimeError, match='needs a teacher'):
        student.loss(images(2), samples([2, 3]))


def test_the_distillers_teacher_is_attached_unfrozen_in_the_student_stage():
    torch.manual_seed(0)
    prompt = dict(type='L2PPrompt', pool_size=6)
    model = build(
        dict(
            type='ContinualDistiller',
            student=classifier_cfg(
                prompt=prompt, distill=dict(type='KDPDistill')),
            teacher=classifier_cfg(
                arch=ARCH_WIDE, prompt=prompt, query=vit_cfg(ARCH))))
    model.begin_task(0, 3, (0, 3))
    teacher = model.teacher
    trainable = teacher.trainable_parameters()
    assert model.student.teacher is None  # teacher stage first
    model.set_stage('student')
    assert model.student.teacher is teacher
    # freeze=False: its flags stay as they are (DDP sees the same
    # parameters in both stages), it is kept in eval mode
    assert all(p.requires_grad for p in trainable)
    model.train()
    assert not teacher.training and model.student.training
    # the distiller owns and moves it; the student alone does not
    model.student.double()
    assert _dtypes(teacher) == {torch.float32}
    model.double()
    assert _dtypes(teacher) == {torch.float64}
    model.float()
    # the teacher stage detaches it: the student's train() does not hold
    # the teacher being trained in eval mode
    model.set_stage('teacher')
    assert model.student.teacher is None
    model.train()
    assert teacher.training and not model.student.training
