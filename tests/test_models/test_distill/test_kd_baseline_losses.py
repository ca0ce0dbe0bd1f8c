"""Logit KD and channel-wise distillation (CWD) against hand values."""
import math

import pytest
import torch

from had_mm.models.distill import ChannelWiseDivergenceLoss, LogitKDLoss

LN3 = math.log(3)
# KL((3/4, 1/4) || (1/2, 1/2))
KL = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)


def test_logit_kd_by_hand():
    student = torch.zeros(1, 2, 1, 2)
    teacher = torch.tensor([[[[LN3, 0.]], [[0., LN3]]]])
    assert KL == pytest.approx(0.130812, abs=1e-6)
    assert LogitKDLoss()(student, teacher).item() == pytest.approx(KL, 1e-5)
    # temperature 2 on doubled logits: the same distributions, times 4
    loss = LogitKDLoss(tau=2.0, loss_weight=0.5)(student, 2 * teacher)
    assert loss.item() == pytest.approx(0.5 * 4 * KL, rel=1e-5)


def test_logit_kd_resizes_teacher_and_no_teacher_grad():
    student = torch.zeros(1, 3, 2, 2, requires_grad=True)
    teacher = torch.randn(1, 3, 4, 4, requires_grad=True)
    loss = LogitKDLoss()(student, teacher)
    loss.backward()
    assert teacher.grad is None and student.grad is not None


def test_cwd_by_hand():
    # one channel, two positions: spatial softmax (3/4, 1/4) vs (1/2, 1/2)
    student = torch.zeros(1, 1, 1, 2)
    teacher = torch.tensor([[[[LN3, 0.]]]])
    assert ChannelWiseDivergenceLoss()(student,
                                       teacher).item() == pytest.approx(
                                           KL, rel=1e-5)
    loss = ChannelWiseDivergenceLoss(tau=2.0)(student, 2 * teacher)
    assert loss.item() == pytest.approx(4 * KL, rel=1e-5)
    # normalised by N * C: a second, identical channel and image change
    # nothing; a channel that matches halves the mean
    cwd = ChannelWiseDivergenceLoss()
    same = cwd(torch.zeros(2, 2, 1, 2), teacher.expand(2, 2, 1, 2))
    assert same.item() == pytest.approx(KL, rel=1e-5)
    one_matches = torch.tensor([[[[LN3, 0.]], [[0., 0.]]]])
    cwd3 = ChannelWiseDivergenceLoss(loss_weight=3.0)
    half = cwd3(torch.zeros(1, 2, 1, 2), one_matches)
    assert half.item() == pytest.approx(3 * KL / 2, rel=1e-5)


def test_cwd_is_spatial_not_over_classes():
    # a constant shift of a channel changes nothing spatially
    gen = torch.Generator().manual_seed(0)
    student = torch.randn(2, 3, 4, 4, generator=gen)
    teacher = torch.randn(2, 3, 4, 4, generator=gen)
    shift = torch.tensor([0., 5., -2.]).view(1, 3, 1, 1)
    cwd = ChannelWiseDivergenceLoss(tau=4.0)
    assert cwd(student + shift, teacher).item() == pytest.approx(
        cwd(student, teacher).item(), rel=1e-5)
    with pytest.raises(ValueError, match='channel count'):
        cwd(student, teacher[:, :2])
