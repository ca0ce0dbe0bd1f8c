"""The DKD, FitNets and ReviewKD distillation modes and KDP's capacity
control: their losses by hand, the layer outputs, and the modes inside a
ContinualDistiller."""
import math

import pytest
import torch
from kdp_tiny_models import (ARCH, ARCH_WIDE, build, classifier_cfg, images,
                             samples, vit_cfg)

from projects.kdp.kdp.models import (DistillInputs, DKDDistill, FitNetsDistill,
                                     ReviewKDDistill, encode_tokens,
                                     encode_tokens_and_features)

# 2 images, 5 classes; the current task is classes [1, 4)
STUDENT = torch.tensor([[0.5, 1.0, -1.0, 2.0, 9.0],
                        [3.0, 0.0, 0.5, -0.5, -9.0]])
TEACHER = torch.tensor([[9.0, 2.0, 0.0, 1.0, -3.0], [-2.0, 0.0, 3.0, 1.0,
                                                     5.0]])
LABELS = torch.tensor([3, 2])
TASK = (1, 4)


def _inputs(**kwargs):
    """The distillation inputs of STUDENT on LABELS in TASK."""
    return DistillInputs(STUDENT, LABELS, TASK, **kwargs)


def _softmax(row, temp=1.0):
    exps = [math.exp(v / temp) for v in row]
    return [e / sum(exps) for e in exps]


def _kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)


def _ce_by_hand(logits, labels, start, end):
    total = 0.
    for row, label in zip(logits.tolist(), labels.tolist()):
        total -= math.log(_softmax(row[start:end])[label - start])
    return total / len(labels)


def _soft_kl_by_hand(student, teacher, temp, start, end):
    total = sum(
        _kl(_softmax(t[start:end], temp), _softmax(s[start:end], temp))
        for s, t in zip(student.tolist(), teacher.tolist()))
    return total / student.shape[0] * temp**2


def test_dkd_mode_by_hand():
    dkd = DKDDistill(embed_dims=8, num_classes=5)
    assert (dkd.kd_weight, dkd.alpha, dkd.beta, dkd.temperature) == (0.5, 1.0,
                                                                     4.0, 4.0)
    losses = dkd.loss(_inputs(teacher_logits=TEACHER))
    assert set(losses) == {'loss_ce', 'loss_tckd', 'loss_nckd'}
    tckd = nckd = 0.
    for s_row, t_row, y in zip(STUDENT.tolist(), TEACHER.tolist(),
                               LABELS.tolist()):
        ps, pt = _softmax(s_row[1:4], 4.0), _softmax(t_row[1:4], 4.0)
        y -= 1  # inside the task slice
        tckd += _kl([pt[y], 1 - pt[y]], [ps[y], 1 - ps[y]])
        nckd += _kl([p / (1 - pt[y]) for i, p in enumerate(pt) if i != y],
                    [p / (1 - ps[y]) for i, p in enumerate(ps) if i != y])
    assert losses['loss_ce'].item() == pytest.approx(
        0.5 * _ce_by_hand(STUDENT, LABELS, *TASK), rel=1e-5)
    assert losses['loss_tckd'].item() == pytest.approx(
        0.5 * 1.0 * 16 * tckd / 2, rel=1e-5)
    assert losses['loss_nckd'].item() == pytest.approx(
        0.5 * 4.0 * 16 * nckd / 2, rel=1e-5)
    torch.testing.assert_close(dkd.predict_logits(STUDENT, None), STUDENT)
    # alpha is DKD's TCKD weight (not a mix); kd_weight is the mix
    DKDDistill(embed_dims=8, num_classes=5, alpha=2.0)
    with pytest.raises(ValueError, match='kd_weight=1.5'):
        DKDDistill(embed_dims=8, num_classes=5, kd_weight=1.5)


def test_encode_tokens_and_features_match_the_layers():
    torch.manual_seed(0)
    vit = build(vit_cfg())
    vit.init_weights()
    x = images(2)
    final, feats, grid = encode_tokens_and_features(vit, x, out_layers=(0, 3))
    assert grid == (8, 8) and sorted(feats) == [0, 3]
    torch.testing.assert_close(final, encode_tokens(vit, x))
    tokens = encode_tokens_and_features(vit, x, out_layers=())[0]
    torch.testing.assert_close(tokens, final)
    # by hand: the blocks one by one (no prompts: the plain layers)
    h, _ = vit.patch_embed(x)
    h = torch.cat([vit.cls_token.expand(2, -1, -1), h], dim=1) + vit.pos_embed
    h = vit.pre_norm(h)
    for i, layer in enumerate(vit.layers):
        h = layer(h)
        if i in feats:
            torch.testing.assert_close(feats[i], h)
    with pytest.raises(ValueError, match=r'out_layers \[4\].*depth 4'):
        encode_tokens_and_features(vit, x, out_layers=(4, ))


def _tokens(batch, num, dims, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, num, dims, generator=gen)


def test_fitnets_mode_by_hand():
    fit = FitNetsDistill(
        embed_dims=2,
        num_classes=5,
        num_layers=4,
        alpha=0.5,
        hint_weight=0.1,
        teacher_dims=3,
        teacher_num_layers=8)
    # the last student layer -> the last teacher layer
    assert (fit.student_layer, fit.teacher_layer) == (3, 7)
    assert fit.student_layers == (3, ) and fit.teacher_layers == (7, )
    weight = [[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]]
    bias = [0.1, 0.0, -0.2]
    with torch.no_grad():
        fit.regressor.weight.copy_(torch.tensor(weight))
        fit.regressor.bias.copy_(torch.tensor(bias))
    fs, ft = _tokens(2, 5, 2, 0), _tokens(2, 5, 3, 1)
    losses = fit.loss(
        _inputs(
            teacher_logits=TEACHER,
            student_feats={3: fs},
            teacher_feats={7: ft}))
    assert set(losses) == {'loss_ce', 'loss_kd', 'loss_hint'}
    sq = []
    for b in range(2):
        for n in range(5):
            f = fs[b, n].tolist()
            for o in range(3):
                pred = sum(w * v for w, v in zip(weight[o], f)) + bias[o]
                sq.append((pred - ft[b, n, o].item())**2)
    assert losses['loss_hint'].item() == pytest.approx(
        0.1 * sum(sq) / len(sq), rel=1e-5)
    assert losses['loss_ce'].item() == pytest.approx(
        0.5 * _ce_by_hand(STUDENT, LABELS, *TASK), rel=1e-5)
    assert losses['loss_kd'].item() == pytest.approx(
        0.5 * _soft_kl_by_hand(STUDENT, TEACHER, 2.0, *TASK), rel=1e-5)
    # a = 0: the original FitNets loss, CE and the hint
    plain = FitNetsDistill(
        embed_dims=2, num_classes=5, num_layers=4, alpha=0., student_layer=1)
    assert (plain.student_layer, plain.teacher_layer) == (1, 1)
    losses = plain.loss(
        _inputs(
            teacher_logits=TEACHER,
            student_feats={1: fs},
            teacher_feats={1: fs}))
    assert set(losses) == {'loss_ce', 'loss_hint'}
    with pytest.raises(ValueError, match='teacher features of layers'):
        plain.loss(_inputs(teacher_logits=TEACHER, student_feats={1: fs}))
    with pytest.raises(ValueError, match='student_layer=4 lies beyond'):
        FitNetsDistill(
            embed_dims=2, num_classes=5, num_layers=4, student_layer=4)


def _identity_fusion(mode):
    """1x1 / centre-3x3 identity convs, BN as identity, attention 1/2."""
    with torch.no_grad():
        for fusion in mode.fusions:
            eye = torch.eye(fusion.reduce[0].weight.shape[0])
            fusion.reduce[0].weight.copy_(eye[:, :, None, None])
            out = torch.zeros_like(fusion.out[0].weight)
            out[:, :, 1, 1] = eye
            fusion.out[0].weight.copy_(out)
            for bn in (fusion.reduce[1], fusion.out[1]):
                bn.eps = 0.
            if fusion.attention is not None:
                fusion.attention[0].weight.zero_()
                fusion.attention[0].bias.zero_()
    mode.eval()


def _mse(a, b):
    return sum((x - y)**2 for x, y in zip(a, b)) / len(a)


def test_review_kd_mode_by_hand():
    review = ReviewKDDistill(
        embed_dims=2,
        num_classes=5,
        num_layers=2,
        alpha=0.,
        student_layers=(0, 1),
        loss_weight=1.0)
    assert review.teacher_layers == (0, 1) and review.mid_channels == 2
    # shallow to deep; the deepest (class token) level fuses nothing
    assert [f.attention is not None
            for f in review.fusions] == [True, True, False]
    _identity_fusion(review)
    grid = (2, 2)
    s0, s1 = _tokens(1, 5, 2, 0), _tokens(1, 5, 2, 1)
    t0, t1 = _tokens(1, 5, 2, 2), _tokens(1, 5, 2, 3)
    losses = review.loss(
        DistillInputs(
            STUDENT[:1],
            LABELS[:1],
            TASK,
            teacher_logits=TEACHER[:1],
            student_feats={
                0: s0,
                1: s1
            },
            teacher_feats={
                0: t0,
                1: t1
            },
            patch_resolution=grid))
    assert set(losses) == {'loss_ce', 'loss_hcl'}

    # by hand, per channel c and patch p (row-major tokens 1..4):
    # class level out = cls1; level 1 = (s1 + cls1) / 2; level 0 = (s0 +
    # level 1) / 2 (attention weights 1/2, nearest resize of 1 x 1)
    def level_loss(student_map, teacher_map):
        # 2 x 2 maps: pooled sizes 4 and 2 skipped, 1 with weight 1/2
        total = 0.
        for c in range(2):
            s = [student_map[p][c] for p in range(4)]
            t = [teacher_map[p][c] for p in range(4)]
            total += _mse(s, t) + 0.5 * (sum(s) / 4 - sum(t) / 4)**2
        return total / 2 / 1.5  # mean over channels; weights 1 + 1/2

    cls = s1[0, 0].tolist()
    lvl1 = [[(s1[0, 1 + p, c].item() + cls[c]) / 2 for c in range(2)]
            for p in range(4)]
    lvl0 = [[(s0[0, 1 + p, c].item() + lvl1[p][c]) / 2 for c in range(2)]
            for p in range(4)]
    expected = (
        level_loss(lvl0, t0[0, 1:].tolist()) +
        level_loss(lvl1, t1[0, 1:].tolist()) + _mse(cls, t1[0, 0].tolist()))
    assert losses['loss_hcl'].item() == pytest.approx(expected, rel=1e-5)


def test_review_kd_defaults_and_errors():
    review = ReviewKDDistill(
        embed_dims=8,
        num_classes=5,
        num_layers=12,
        teacher_dims=16,
        teacher_num_layers=24)
    assert review.student_layers == (2, 5, 8, 11)
    assert review.teacher_layers == (5, 11, 17, 23)
    assert review.mid_channels == 8 and len(review.fusions) == 5
    assert review.fusions[0].out[0].out_channels == 16
    with pytest.raises(ValueError, match='increasing'):
        ReviewKDDistill(
            embed_dims=8, num_classes=5, num_layers=4, student_layers=(2, 1))
    with pytest.raises(ValueError, match='one teacher layer per student'):
        ReviewKDDistill(
            embed_dims=8,
            num_classes=5,
            num_layers=4,
            student_layers=(1, 3),
            teacher_layers=(3, ))


def _distiller_cfg(distill, teacher_arch=ARCH_WIDE, teacher_patch=4):
    prompt = dict(type='L2PPrompt', pool_size=6, top_k=2, length=2)
    teacher_vit = vit_cfg(teacher_arch)
    teacher_vit['patch_size'] = teacher_patch
    return dict(
        type='ContinualDistiller',
        student=classifier_cfg(prompt=prompt, distill=distill),
        teacher=dict(
            classifier_cfg(prompt=prompt, query=vit_cfg(ARCH)),
            backbone=teacher_vit))


@pytest.mark.parametrize('distill, feature_term', [
    (dict(type='FitNetsDistill'), 'loss_hint'),
    (dict(type='ReviewKDDistill', student_layers=(1, 3)), 'loss_hcl'),
    (dict(type='DKDDistill'), 'loss_nckd'),
])
def test_modes_in_the_continual_distiller(distill, feature_term):
    torch.manual_seed(0)
    model = build(_distiller_cfg(distill))
    mode = model.student.distill
    if feature_term != 'loss_nckd':
        # the teacher's shape is filled in from its backbone
        assert (mode.teacher_dims, mode.teacher_num_layers) == (48, 4)
    model.begin_task(1, 4, (2, 4))
    model.set_stage('student')
    model.train()
    losses = model.loss(images(2), samples([2, 3]))
    assert feature_term in losses and 'loss_prompt' in losses
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.student.backbone.parameters())
    assert model.student.prompt.prompts.grad.abs().sum() > 0
    trainable = {id(p) for p in model.stage_parameters()}
    for p in mode.parameters():
        assert id(p) in trainable
        assert p.grad is not None
    # inference: the CLS head only
    model.eval()
    x = images(2)
    cls_logits = model.student.forward_logits(x)[0]
    torch.testing.assert_close(model.student.predict_logits(x), cls_logits)


def test_feature_modes_fail_at_build_time():
    with pytest.raises(ValueError, match=r'teacher_dims=40 differs'):
        build(_distiller_cfg(dict(type='FitNetsDistill', teacher_dims=40)))
    with pytest.raises(
            ValueError, match=r'patch grid \(4, 4\) differs.*'
            r'\(8, 8\)'):
        build(_distiller_cfg(dict(type='ReviewKDDistill'), teacher_patch=8))
    with pytest.raises(ValueError, match='teacher_layer=6 lies beyond'):
        build(_distiller_cfg(dict(type='FitNetsDistill', teacher_layer=6)))
    # a bare classifier checks the teacher at attach_teacher
    student = build(classifier_cfg(distill=dict(type='FitNetsDistill')))
    with pytest.raises(ValueError, match='teacher_dims=32 but the teacher'):
        student.attach_teacher(build(classifier_cfg(arch=ARCH_WIDE)))


def _extra_parameters(model):
    """Trainable parameters outside the prompt pool and ``last``."""
    return sum(p.numel() for p in model.distill.parameters())


def test_kdp_capacity_control_matches_kdp_without_a_teacher():
    prompt = dict(type='L2PPrompt', pool_size=6, top_k=2, length=2)
    torch.manual_seed(0)
    control = build(
        dict(
            type='ContinualDistiller',
            student=classifier_cfg(
                prompt=prompt, distill=dict(type='KDPCapacityControl'))))
    kdp = build(classifier_cfg(prompt=prompt, distill=dict(type='KDPDistill')))
    student = control.student
    assert control.teacher is None and student.teacher is None
    # as many extra parameters, in the same places
    assert _extra_parameters(student) == _extra_parameters(kdp) > 0
    assert student.distill.kd_prompt.layers == kdp.distill.kd_prompt.layers
    control.begin_task(1, 4, (2, 4))
    control.train()
    x, labels = images(2), torch.tensor([2, 3])
    losses = control.loss(x, samples(labels.tolist()))
    assert set(losses) == {'loss_ce', 'loss_ce_kd', 'loss_prompt'}
    sum(losses.values()).backward()
    assert student.distill.kd_prompt.kd_token.grad.abs().sum() > 0
    # by hand: CE of both heads on the labels, over the task's classes
    cls_logits, kd_logits, _ = student.forward_logits(x, train=True)
    assert losses['loss_ce'].item() == pytest.approx(
        0.5 * _ce_by_hand(cls_logits.detach(), labels, 2, 4), rel=1e-5)
    assert losses['loss_ce_kd'].item() == pytest.approx(
        0.5 * _ce_by_hand(kd_logits.detach(), labels, 2, 4), rel=1e-5)
    # KDP's inference rule
    control.eval()
    cls_logits, kd_logits, _ = student.forward_logits(x)
    torch.testing.assert_close(
        student.predict_logits(x), 0.5 * cls_logits + 0.5 * kd_logits)
