"""Adapter fitting of HeteroLifelongTeacher through an mmengine
OptimWrapper, against a plain torch Adam loop."""
import itertools

import pytest
import torch
from distill_helpers import build
from mmengine.logging import MessageHub
from test_hetero_lifelong_teacher import _raw_batch, _teacher_cfg
from tiny_model import tiny_predictor_cfg

from had_mm.engine.distill import (build_adapter_optim_wrapper,
                                   fit_teacher_adapter)
from had_mm.models.distill import decode_stride


@pytest.fixture
def student():
    torch.manual_seed(0)
    return build(tiny_predictor_cfg(('semantic', 'depth', 'normal')))


def _reference_fit(teacher, student, task, batches, iters, lr):
    """The fitting as a bare torch loop: Adam on the adapter, the student
    head's loss on the summed stage projections of one frozen pass."""
    head = student.heads[task]
    teacher.add_task(task, head, decode_stride(student))
    adapter = teacher.adapters[task]
    adapter.requires_grad_(True)
    adapter.train()
    init = {k: v.clone() for k, v in adapter.state_dict().items()}
    optimizer = torch.optim.Adam(adapter.parameters(), lr=lr)
    for _ in range(iters):
        data = student.data_preprocessor(next(batches), True)
        inputs, samples = data['inputs'], data['data_samples']
        with torch.no_grad():
            feats = teacher.extract_feat(inputs)
        size = adapter.output_size(inputs.shape[2:])
        raw = torch.stack(adapter(feats, size), dim=0).sum(dim=0)
        losses = {
            k: v
            for k, v in head.loss_by_feat(raw, samples).items() if 'loss' in k
        }
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    return adapter, init


def _batches():
    return itertools.repeat(_raw_batch())


@pytest.mark.parametrize('task', ['depth', 'semantic'])
def test_optim_wrapper_fitting_equals_a_plain_adam_loop(
        teacher_ckpt, student, task):
    iters, lr = 6, 1e-2
    ref_teacher = build(_teacher_cfg(teacher_ckpt, fit_lr=lr))
    torch.manual_seed(1)
    ref, init = _reference_fit(ref_teacher, student, task, _batches(), iters,
                               lr)

    teacher = build(_teacher_cfg(teacher_ckpt, fit_lr=lr))
    torch.manual_seed(1)  # the same adapter initialisation
    student_before = {k: v.clone() for k, v in student.state_dict().items()}
    last = fit_teacher_adapter(
        teacher,
        task,
        student,
        _batches(),
        iters,
        preprocess=lambda b: student.data_preprocessor(b, True))
    assert last and all('loss' in k for k in last)
    fitted = teacher.adapters[task].state_dict()
    for key, value in ref.state_dict().items():
        assert torch.equal(fitted[key], value), key
    # the weights did move (BN statistics included)
    moved = [k for k, v in init.items() if not torch.equal(v, fitted[k])]
    assert len(moved) > len(init) // 2
    assert teacher.fitted_tasks == [task]
    assert not any(p.requires_grad for p in teacher.parameters())
    assert not teacher.adapters[task].training
    # the student is untouched and the teacher keeps no reference to it
    for key, value in student.state_dict().items():
        assert torch.equal(value, student_before[key]), key
    assert all(v is not student for v in vars(teacher).values())


def test_fitting_logs_a_falling_loss(teacher_ckpt, student):
    teacher = build(_teacher_cfg(teacher_ckpt, fit_lr=1e-2, fit_iters=30))
    hub = MessageHub.get_current_instance()
    fit_teacher_adapter(
        teacher,
        'depth',
        student,
        _batches(),
        1000,  # fit_iters wins over the phase's iterations
        preprocess=lambda b: student.data_preprocessor(b, True),
        log_interval=10)
    history, counts = hub.get_scalar('adapter_fit/depth.loss_depth').data
    history = history[-30:]
    assert len(history) == 30
    assert history[-1] < 0.5 * history[0]
    # the training log reads train/ keys only: nothing leaks into it
    assert not any(k.startswith('train/adapter') for k in hub.log_scalars)


def test_optim_wrapper_config(teacher_ckpt, student):
    teacher = build(
        _teacher_cfg(
            teacher_ckpt,
            fit_optim_wrapper=dict(
                type='CPUAmpOptimWrapper',
                optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
                clip_grad=dict(max_norm=1.0))))
    adapter = teacher.begin_fit('normal', student.heads['normal'],
                                decode_stride(student))
    wrapper = build_adapter_optim_wrapper(teacher, 'normal')
    assert type(wrapper).__name__ == 'CPUAmpOptimWrapper'
    assert type(wrapper.optimizer).__name__ == 'SGD'
    params = [p for g in wrapper.optimizer.param_groups for p in g['params']]
    assert [id(p) for p in params] == [id(p) for p in adapter.parameters()]
    # the fitting runs under the wrapper's autocast (bf16 on the CPU)
    last = fit_teacher_adapter(
        teacher,
        'normal',
        student,
        _batches(),
        2,
        preprocess=lambda b: student.data_preprocessor(b, True))
    assert all(torch.isfinite(torch.tensor(v)) for v in last.values())
    assert teacher.fitted_tasks == ['normal']
    with pytest.raises(ValueError, match='paramwise_cfg'):
        teacher.fit_optim_wrapper = dict(
            optimizer=dict(type='Adam', lr=1e-3), paramwise_cfg=dict())
        build_adapter_optim_wrapper(teacher, 'normal')


def test_teacher_follows_the_students_dtype_after_fitting(
        teacher_ckpt, student):
    teacher = build(_teacher_cfg(teacher_ckpt))
    fit_teacher_adapter(
        teacher,
        'semantic',
        student,
        _batches(),
        1,
        preprocess=lambda b: student.data_preprocessor(b, True))
    from had_mm.registry import MODELS
    student.attach_teacher(
        teacher,
        losses=dict(
            semantic=MODELS.build(dict(type='HADLoss', task='semantic'))))
    student.double()
    for module in (teacher.teacher, teacher.adapters['semantic']):
        assert {p.dtype for p in module.parameters()} == {torch.float64}
    student.float()
