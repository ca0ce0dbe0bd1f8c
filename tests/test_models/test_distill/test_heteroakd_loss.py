"""KMM, KEM and HeteroAKDLoss against hand-computed values
(docs/en/methods/heteroakd.md, sections 2-4)."""
import math

import numpy as np
import pytest
import torch

from had_mm.models.distill import (KEM, KMM, HeteroAKDLoss, LogitKDLoss,
                                   pixel_reliability)
from had_mm.registry import MODELS

LN3 = math.log(3)


def _softmax(z, tau=1.0):
    m = max(v / tau for v in z)
    exps = [math.exp(v / tau - m) for v in z]
    return [e / sum(exps) for e in exps]


def _unreliability(z, label):
    p = _softmax(z)
    if label == 255:
        return -sum(q * math.log(q) for q in p)
    return -math.log(p[label])


def ref_heteroakd(students, teachers, gt, tau=4.0, temp_w=1.0):
    """Sections 2-4 of docs/en/methods/heteroakd.md by plain float64 loops
    (per stage, per pixel)."""
    total = 0.0
    for s_map, t_map in zip(students, teachers):
        s_map = np.asarray(s_map, np.float64)
        t_map = np.asarray(t_map, np.float64)
        b_size, _, height, width = s_map.shape
        for b in range(b_size):
            kls, gains = [], []
            for i in range(height):
                for j in range(width):
                    s, t = list(s_map[b, :, i, j]), list(t_map[b, :, i, j])
                    label = int(gt[b][i][j])
                    h_s = _unreliability(s, label)
                    h_t = _unreliability(t, label)
                    a = h_s / (h_t + h_s)
                    mix = [a * tv + (1 - a) * sv for sv, tv in zip(s, t)]
                    gains.append(max(0.0, h_s - _unreliability(mix, label)))
                    p_mix, p_s = _softmax(mix, tau), _softmax(s, tau)
                    kls.append(
                        sum(pm * math.log(pm / ps)
                            for pm, ps in zip(p_mix, p_s)))
            exps = [math.exp(g / temp_w) for g in gains]
            weights = [len(gains) * e / sum(exps) for e in exps]
            weighted = sum(w * k for w, k in zip(weights, kls))
            total += tau**2 * weighted / (b_size * len(kls))
    return total


def _t(values):
    return torch.tensor(values, dtype=torch.float32)


def test_one_pixel_by_hand():
    # student uniform, teacher p = (3/4, 1/4), label 0
    student = _t([[[[0.]], [[0.]]]])
    teacher = _t([[[[LN3]], [[0.]]]])
    gt = torch.tensor([[[0]]])
    h_s, h_t = math.log(2), -math.log(0.75)
    a = h_s / (h_t + h_s)
    assert a == pytest.approx(0.706695, abs=1e-6)
    mixed, share = KMM()(student, teacher, gt)
    assert share.item() == pytest.approx(a, abs=1e-6)
    torch.testing.assert_close(mixed, _t([[[[a * LN3]], [[0.]]]]))
    # one pixel: its KEM weight is 1 whatever the gain
    assert KEM()(student, mixed, gt).item() == pytest.approx(1.0)
    # tau^2 KL(softmax(mix / 4) || softmax(s / 4)) with p_s = (1/2, 1/2)
    p0 = 1 / (1 + math.exp(-a * LN3 / 4))
    kl = p0 * math.log(2 * p0) + (1 - p0) * math.log(2 * (1 - p0))
    assert 16 * kl == pytest.approx(0.074993, abs=1e-6)
    loss = HeteroAKDLoss()([student], [teacher], gt)
    assert loss.item() == pytest.approx(16 * kl, rel=1e-5)
    assert HeteroAKDLoss(loss_weight=2.0)(student, teacher,
                                          gt).item() == pytest.approx(
                                              32 * kl, rel=1e-5)


def test_unlabelled_pixels_use_entropy():
    student = _t([[[[0., 0.]], [[0., 0.]]]])
    teacher = _t([[[[LN3, LN3]], [[0., 0.]]]])
    gt = torch.tensor([[[255, 0]]])
    entropy_t = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    h = pixel_reliability(teacher, gt)
    assert h[0, 0, 0].item() == pytest.approx(entropy_t, abs=1e-6)
    assert h[0, 0, 1].item() == pytest.approx(-math.log(0.75), abs=1e-6)
    _, share = KMM()(student, teacher, gt)
    assert share[0, 0, 0].item() == pytest.approx(
        math.log(2) / (math.log(2) + entropy_t), abs=1e-6)  # 0.552096
    assert share[0, 0, 0].item() == pytest.approx(0.552096, abs=1e-6)
    # a label outside [0, C) counts as unlabelled too
    h_out = pixel_reliability(teacher, torch.tensor([[[7, 0]]]))
    assert h_out[0, 0, 0].item() == pytest.approx(entropy_t, abs=1e-6)


def test_teacher_worse_everywhere_mix_follows_student():
    gen = torch.Generator().manual_seed(1)
    gt = torch.randint(0, 4, (2, 3, 5), generator=gen)
    student = torch.full((2, 4, 3, 5), -1.0)
    student.scatter_(1, gt[:, None], 3.0)  # confident and right
    wrong = (gt + 1) % 4
    teacher = torch.full((2, 4, 3, 5), -1.0)
    teacher.scatter_(1, wrong[:, None], 3.0)  # confident and wrong
    mixed, share = KMM()(student, teacher, gt)
    assert (share < 0.5).all()
    # the mix is closer to the student than to the teacher at every pixel
    to_student = (mixed - student).norm(dim=1)
    to_teacher = (mixed - teacher).norm(dim=1)
    assert (to_student < to_teacher).all()
    # and still predicts the student's (right) class
    assert torch.equal(mixed.argmax(dim=1), gt)


def test_kem_weights_mean_one_per_image():
    gen = torch.Generator().manual_seed(2)
    student = torch.randn(3, 5, 4, 6, generator=gen)
    mixed = torch.randn(3, 5, 4, 6, generator=gen)
    gt = torch.randint(0, 5, (3, 4, 6), generator=gen)
    gt[0, 0] = 255
    for temp_w in (0.5, 1.0, 3.0):
        weights = KEM(temp_w=temp_w)(student, mixed, gt)
        assert weights.shape == (3, 4, 6)
        assert (weights > 0).all()
        torch.testing.assert_close(
            weights.mean(dim=(1, 2)), torch.ones(3), rtol=0, atol=1e-5)


def test_kem_two_pixels_by_hand():
    # pixel 0: the mix helps (gain d); pixel 1: it does not (gain 0)
    student = _t([[[[0., 0.]], [[0., 0.]]]])
    mixed = _t([[[[LN3, 0.]], [[0., LN3]]]])
    gt = torch.tensor([[[0, 0]]])
    gain = math.log(2) + math.log(0.75)  # H_s - H_mix at pixel 0
    weights = KEM(temp_w=0.5)(student, mixed, gt)
    expected = [
        2 * math.exp(gain / 0.5) / (math.exp(gain / 0.5) + 1),
        2 / (math.exp(gain / 0.5) + 1)
    ]
    torch.testing.assert_close(weights[0, 0], _t(expected))


def test_matches_loop_reference_two_stages():
    gen = torch.Generator().manual_seed(3)
    students = [torch.randn(2, 3, 3, 4, generator=gen) for _ in range(2)]
    teachers = [torch.randn(2, 3, 3, 4, generator=gen) for _ in range(2)]
    gt = torch.randint(0, 3, (2, 3, 4), generator=gen)
    gt[0, 1, :2] = 255
    gt[1, 2, 3] = 255
    expected = ref_heteroakd(students, teachers, gt.tolist(), 2.0, 0.7)
    loss = HeteroAKDLoss(tau=2.0, temp_w=0.7)(students, teachers, gt)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_gradient_reaches_only_the_student():
    gen = torch.Generator().manual_seed(4)
    student = torch.randn(1, 3, 2, 2, generator=gen, requires_grad=True)
    teacher = torch.randn(1, 3, 2, 2, generator=gen, requires_grad=True)
    gt = torch.randint(0, 3, (1, 2, 2), generator=gen)
    HeteroAKDLoss()([student], [teacher], gt).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_labels_resized_to_logits_and_ablations():
    gen = torch.Generator().manual_seed(5)
    student = torch.randn(2, 4, 2, 3, generator=gen)
    teacher = torch.randn(2, 4, 2, 3, generator=gen)
    gt = torch.randint(0, 4, (2, 4, 6), generator=gen)
    loss = HeteroAKDLoss()(student, teacher, gt)
    # nearest downsampling of the labels by 2 picks every other pixel
    ref = HeteroAKDLoss()(student, teacher, gt[:, ::2, ::2])
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    # without KMM and KEM it is plain logit KD at the same temperature
    plain = HeteroAKDLoss(tau=3.0, use_kmm=False, use_kem=False)
    kd = LogitKDLoss(tau=3.0)
    assert plain(student, teacher, gt).item() == pytest.approx(
        kd(student, teacher).item(), rel=1e-5)


def test_registered_with_documented_defaults():
    loss = MODELS.build(dict(type='HeteroAKDLoss'))
    assert (loss.tau, loss.kem.temp_w, loss.ignore_index,
            loss.loss_weight) == (4.0, 1.0, 255, 1.0)
    assert loss.use_kmm and loss.use_kem
    for name in ('KMM', 'KEM', 'LogitKDLoss', 'ChannelWiseDivergenceLoss'):
        assert MODELS.get(name) is not None
    with pytest.raises(ValueError, match='pairs student and teacher maps'):
        loss([torch.zeros(1, 2, 1, 1)], [], torch.zeros(1, 1, 1))


def test_paired_map_losses_refuse_unpaired_maps_and_bad_tau():
    for name in ('LogitKDLoss', 'ChannelWiseDivergenceLoss', 'HeteroAKDLoss'):
        loss = MODELS.build(dict(type=name))
        extra = dict(gt=torch.zeros(1, 2, 2)) if name == 'HeteroAKDLoss' \
            else {}
        with pytest.raises(
                ValueError,
                match=f'{name} pairs student and '
                'teacher maps: got 1 student and 0 teacher'):
            loss([torch.zeros(1, 2, 2, 2)], [], **extra)
        with pytest.raises(ValueError, match='got 0 student and 0'):
            loss([], [], **extra)
        with pytest.raises(ValueError, match='tau must be > 0, got 0'):
            MODELS.build(dict(type=name, tau=0))


def test_paired_map_loss_sums_the_pairs_times_the_weight():
    torch.manual_seed(0)
    students = [torch.randn(2, 3, 4, 4), torch.randn(2, 3, 2, 2)]
    teachers = [torch.randn(2, 3, 8, 8), torch.randn(2, 3, 2, 2)]
    for name in ('LogitKDLoss', 'ChannelWiseDivergenceLoss'):
        loss = MODELS.build(dict(type=name, tau=2.0, loss_weight=0.5))
        each = [loss(s, t) / 0.5 for s, t in zip(students, teachers)]
        assert loss(students, teachers).item() == pytest.approx(
            0.5 * sum(each).item(), rel=1e-6)
