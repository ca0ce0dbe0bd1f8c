"""ContinualDistiller: stages, parameters per stage, predict_with and the
mmengine steps."""
import pytest
import torch
from kdp_tiny_models import (ARCH, ARCH_WIDE, batch_data, build,
                             classifier_cfg, vit_cfg)
from mmengine.optim import OptimWrapper

from projects.kdp.kdp.models import ContinualDistiller


def _cfg(teacher=True, distill=dict(type='KDPDistill')):
    prompt = dict(type='L2PPrompt', pool_size=6)
    cfg = dict(
        type='ContinualDistiller',
        student=classifier_cfg(prompt=prompt, distill=distill))
    if teacher:
        # a wider teacher with the student-size query (shared key space)
        cfg['teacher'] = classifier_cfg(
            arch=ARCH_WIDE, prompt=prompt, query=vit_cfg(ARCH))
    return cfg


@pytest.fixture
def model():
    torch.manual_seed(0)
    model = build(_cfg())
    model.begin_task(0, 3, (0, 3))
    return model


def _ids(params):
    return {id(p) for p in params}


def test_stages_and_their_parameters(model):
    assert isinstance(model, ContinualDistiller)
    assert model.stage == 'teacher' and model.predict_with == 'student'
    assert _ids(model.stage_parameters()) == _ids(
        model.teacher.trainable_parameters())
    model.set_stage('student')
    assert _ids(model.stage_parameters()) == _ids(
        model.student.trainable_parameters())
    assert model.student.teacher is model.teacher
    assert model.teacher.prompt.keys.shape[-1] == ARCH['embed_dims']
    keys = list(model.state_dict())
    assert any(k.startswith('teacher.prompt') for k in keys)
    assert any(k.startswith('student.distill.kd_prompt') for k in keys)
    assert not any(k.startswith('student.teacher') for k in keys)
    for sub in (model.teacher, model.student):
        assert sub.task_classes == (0, 3) and sub.classes_seen == 3


def _step(model, labels):
    optim = OptimWrapper(torch.optim.Adam(model.stage_parameters(), lr=0.1))
    return model.train_step(batch_data(labels), optim)


def test_train_step_trains_only_the_active_stage(model):
    model.train()
    t_before = model.teacher.last.weight.detach().clone()
    s_before = model.student.last.weight.detach().clone()
    log = _step(model, [0, 1, 2])
    assert set(log) == {'loss', 'loss_ce', 'loss_prompt'}
    assert not torch.equal(t_before, model.teacher.last.weight)
    assert torch.equal(s_before, model.student.last.weight)
    assert not model.student.training  # inactive: eval

    model.set_stage('student')
    model.teacher.zero_grad(set_to_none=True)
    t_before = model.teacher.last.weight.detach().clone()
    log = _step(model, [0, 1, 2])
    assert set(log) == {'loss', 'loss_ce', 'loss_kd', 'loss_prompt'}
    assert torch.equal(t_before, model.teacher.last.weight)
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not model.teacher.training and model.student.training
    assert not model.student.backbone.training
    assert not torch.equal(s_before, model.student.last.weight)


def test_predict_with(model):
    data = batch_data([0, 1])
    model.eval()
    student = model.val_step(data)
    model.predict_with = 'teacher'
    teacher = model.test_step(batch_data([0, 1]))
    inputs = model.data_preprocessor(batch_data([0, 1]))['inputs']
    torch.testing.assert_close(
        torch.stack([p.pred_score for p in teacher]),
        torch.stack([p.pred_score for p in model.teacher.predict(inputs)]))
    torch.testing.assert_close(
        torch.stack([p.pred_score for p in student]),
        torch.stack([p.pred_score for p in model.student.predict(inputs)]))
    assert model(inputs, mode='tensor').shape == (2, 6)
    with pytest.raises(ValueError, match='predict_with'):
        model.predict_with = 'both'


def test_student_alone():
    model = build(_cfg(teacher=False, distill=None))
    assert model.teacher is None and model.stage == 'student'
    model.begin_task(0, 2, (0, 2))
    log = _step(model, [0, 1])
    assert set(log) == {'loss', 'loss_ce', 'loss_prompt'}
    with pytest.raises(ValueError, match='no teacher'):
        model.set_stage('teacher')
    with pytest.raises(ValueError, match='no teacher'):
        model.predict_with = 'teacher'
    with pytest.raises(ValueError, match='teacher=None'):
        build(_cfg(teacher=False))
    with pytest.raises(ValueError, match='stage='):
        model.set_stage('both')


@pytest.mark.parametrize('distill', [None, dict(type='LogitKD')])
def test_the_teacher_does_not_depend_on_the_student(distill):
    """Same seed: the same teacher whether the student learns with KDP,
    plain KD or, without a distill mode, alone next to a teacher."""
    torch.manual_seed(0)
    ref = build(_cfg())
    ref.init_weights()
    ref = ref.teacher.state_dict()
    torch.manual_seed(0)
    model = build(_cfg(distill=distill))
    model.init_weights()
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, ref[key], msg=key)
