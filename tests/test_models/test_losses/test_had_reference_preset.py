"""HADLoss(preset='reference'): the authors' released reductions, checked
against hand values and float64 loops (the default preset is checked the
same way in test_had_loss.py)."""
import math

import numpy as np
import pytest
import torch

from had_mm.models.losses import HADLoss
from had_mm.tasks import BUILTIN_TASKS as TASK_TYPES

CHANNELS = dict(semantic=4, depth=1, normal=3, saliency=1)


def _pair(task, seed=3, batch=2, size=5):
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, CHANNELS[task], size, size)
    student = torch.randn(shape, generator=gen)
    teacher = torch.randn(shape, generator=gen)
    if task == 'depth':
        student, teacher = student.abs(), teacher.abs()
        teacher[0, 0, 1, 1] = 0  # invalid pixel
    if task == 'normal':
        student = student / student.norm(dim=1, keepdim=True)
    return student, teacher


def _ref_semantic(student, teacher, ref):
    s, t = student.double().numpy(), teacher.double().numpy()
    loss_map, valid = ref.loss_map('semantic', s, t)
    mask = ref.sg_mask(loss_map)
    sg = (mask * loss_map).sum() / loss_map.size
    labels = ref.teacher_labels('semantic', t)
    db = ref.db_classes(loss_map, valid, labels, s.shape[1])
    return (db + sg) / 2


def _ref_depth(student, teacher, ref, tau=0.5):
    s = student.double().numpy()[:, 0]
    t = teacher.double().numpy()[:, 0]
    err = np.abs(s - t) * (t != 0)
    mask = ref.sg_mask(err)
    picked = [err[i] for i in np.ndindex(*err.shape) if mask[i] and err[i]]
    sg = sum(picked) / len(picked) if picked else 0.0
    db = 0.0
    for group in (s > tau, s < tau):
        db += err[group].sum() / group.sum() if group.any() else 0.0
    return (db + sg) / 2


def _ref_normal(student, teacher, ref, tau=0.5):
    s = student.double().numpy()
    t = teacher.double().numpy()
    t = t / np.linalg.norm(t, axis=1, keepdims=True)
    prod = s * t
    pix = prod.mean(axis=1)
    mask = ref.sg_mask(1 - pix)
    count = sum(1 for b, c, i, j in np.ndindex(*prod.shape)
                if mask[b, i, j] and prod[b, c, i, j] != 0)
    sg = 1 - prod.sum() / count
    group_val = s.mean(axis=1)
    db = 0.0
    for group in (group_val > tau, group_val < tau):
        db += 1 - (pix[group].mean() if group.any() else 0.0)
    return (db + sg) / 2


def _ref_saliency(student, teacher):
    z = student.double().numpy().ravel()
    y = (teacher.double().numpy().ravel() >= 0.5).astype(float)
    n, pos = len(y), y.sum()
    total = 0.0
    for zi, yi in zip(z, y):
        bce = max(zi, 0) - zi * yi + math.log1p(math.exp(-abs(zi)))
        total += ((n - pos) / n if yi else pos / n) * bce
    return total / n


def test_reference_saliency_hand_value():
    # teacher logits (0.7, 0.2): labels (1, 0) -- 0.2 > 0 is positive for
    # the default preset but not for the reference threshold 0.5 on the
    # logit; both weights are 1/2; student logits 0: bce = log 2 each.
    student = torch.zeros(1, 1, 1, 2)
    teacher = torch.tensor([[[[0.7, 0.2]]]])
    loss = HADLoss('saliency', preset='reference')(student, teacher)
    assert loss.item() == pytest.approx((0.5 * math.log(2) * 2) / 2, rel=1e-6)


def test_reference_depth_hand_value():
    # one row; the teacher's 0 marks an invalid pixel (e = 0 there).
    # e = (0.1, 0, 0, 0.6); groups on the student at 0.5: {0.2, 0.4}
    # -> mean(0.1, 0) = 0.05 and {0.7, 0.9} -> mean(0, 0.6) = 0.3.
    # Sobel along the row: E_j = 2|e_{j+1} - e_{j-1}| = (0, 0.2, 1.2, 0)
    # -> E~ > 0.9 at pixel 2 only, where e = 0: SG = 0 (nothing nonzero).
    student = torch.tensor([[[[0.2, 0.4, 0.7, 0.9]]]])
    teacher = torch.tensor([[[[0.3, 0.4, 0.0, 1.5]]]])
    loss = HADLoss('depth', preset='reference')(student, teacher)
    assert loss.item() == pytest.approx((0.05 + 0.3 + 0.0) / 2, rel=1e-6)


def test_reference_normal_empty_group_gives_one():
    # all student channel means above tau=0.5? No: unit (1,1,1)/sqrt 3 has
    # mean 0.577 > 0.5 everywhere, so the '< tau' group is empty -> 1.
    student = torch.ones(1, 3, 1, 3) / math.sqrt(3)
    teacher = student.clone()
    # P = 1/3 per channel; pixel mean 1/3; DB = (1 - 1/3) + 1 = 5/3.
    # l = 1 - 1/3 is constant -> E~ = 0 -> empty mask -> SG = 0.
    loss = HADLoss(
        'normal', preset='reference', use_sg=False)(student, teacher)
    assert loss.item() == pytest.approx(5 / 3, rel=1e-6)


@pytest.mark.parametrize('task', TASK_TYPES)
def test_reference_against_loop(task, ref):
    student, teacher = _pair(task)
    loss = HADLoss(task, preset='reference', loss_weight=3.0)(student, teacher)
    expected = dict(
        semantic=lambda: _ref_semantic(student, teacher, ref),
        depth=lambda: _ref_depth(student, teacher, ref),
        normal=lambda: _ref_normal(student, teacher, ref),
        saliency=lambda: _ref_saliency(student, teacher))[task]()
    assert loss.item() == pytest.approx(3 * expected, rel=1e-5)


def test_reference_semantic_sg_is_all_pixel_mean(ref):
    # the one semantic difference: SG divides by B*H*W, not the mask count
    student, teacher = _pair('semantic', seed=5)
    ref_sg = HADLoss('semantic', preset='reference', use_db=False)
    default_sg = HADLoss('semantic', use_db=False)
    loss_map, valid = ref.loss_map('semantic', student.numpy(),
                                   teacher.numpy())
    count = int((ref.sg_mask(loss_map) & valid & (loss_map != 0)).sum())
    assert 0 < count < loss_map.size
    assert ref_sg(student, teacher).item() == pytest.approx(
        default_sg(student, teacher).item() * count / loss_map.size, rel=1e-5)
    # DB is the same in both presets
    assert HADLoss(
        'semantic', preset='reference',
        use_sg=False)(student, teacher).item() == pytest.approx(
            HADLoss('semantic', use_sg=False)(student, teacher).item(),
            rel=1e-6)


def test_reference_normal_sg_is_negative_alignment_term():
    # aligned maps: sum(P) ~ B*H*W while the count covers only the masked
    # pixels (here the borders, where the zero padding makes edges)
    student, teacher = _pair('normal', seed=7, size=24)
    teacher = student + 0.1 * teacher
    sg = HADLoss('normal', preset='reference', use_db=False)(student, teacher)
    assert sg.item() < 0


@pytest.mark.parametrize('task', TASK_TYPES)
def test_reference_gradient_reaches_student_only(task):
    student, teacher = _pair(task, seed=9)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    HADLoss(task, preset='reference')(student, teacher).backward()
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().sum() > 0
    assert teacher.grad is None


@pytest.mark.parametrize('kwargs, match', [
    (dict(preset='authors'), "unknown preset 'authors'"),
    (dict(preset='reference', group_by='teacher'), 'group_by'),
    (dict(preset='reference', mode='less'), 'mode'),
    (dict(preset='reference', bin_edges='quantile'), 'bin_edges'),
    (dict(preset='reference', use_db=False, use_sg=False), 'use_db'),
])
def test_reference_rejects_options_it_does_not_have(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HADLoss('depth', **kwargs)


def test_reference_from_config():
    from had_mm.registry import MODELS
    loss = MODELS.build(dict(type='HADLoss', preset='reference', task='depth'))
    assert loss.preset == 'reference'
