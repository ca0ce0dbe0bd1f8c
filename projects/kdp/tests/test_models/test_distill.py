"""KDP, logit KD and DeiT-token distillation: losses on fixed logits, the
inference rules, and the classifier with a teacher."""
import math

import pytest
import torch
from kdp_tiny_models import ARCH, build, classifier_cfg, images, samples

from projects.kdp.kdp.models import (DistillInputs, DistTokenKD, KDPDistill,
                                     LogitKD, encode_tokens)

# 2 images, 5 classes; the current task is classes [1, 4)
STUDENT = torch.tensor([[0.5, 1.0, -1.0, 2.0, 9.0],
                        [3.0, 0.0, 0.5, -0.5, -9.0]])
TOKEN = torch.tensor([[1.0, 0.0, 2.0, -1.0, 4.0], [0.0, 1.5, -0.5, 0.5, 7.0]])
TEACHER = torch.tensor([[9.0, 2.0, 0.0, 1.0, -3.0], [-2.0, 0.0, 3.0, 1.0,
                                                     5.0]])
LABELS = torch.tensor([3, 2])
TASK = (1, 4)


def _inputs(**kwargs):
    """The distillation inputs of STUDENT on LABELS in TASK."""
    return DistillInputs(STUDENT, LABELS, TASK, **kwargs)


def _ce_by_hand(logits, labels, start, end):
    total = 0.
    for row, label in zip(logits.tolist(), labels.tolist()):
        part = row[start:end]
        total += -part[label - start] + math.log(sum(map(math.exp, part)))
    return total / len(labels)


def _kl_by_hand(student, teacher, temp, start, end):
    total = 0.
    for s_row, t_row in zip(student.tolist(), teacher.tolist()):
        s = [v / temp for v in s_row[start:end]]
        t = [v / temp for v in t_row[start:end]]
        zs = math.log(sum(map(math.exp, s)))
        zt = math.log(sum(map(math.exp, t)))
        for sv, tv in zip(s, t):
            p = math.exp(tv - zt)
            total += p * ((tv - zt) - (sv - zs))
    return total / student.shape[0]  # batch mean


def test_kdp_loss_by_hand():
    kdp = KDPDistill(embed_dims=8, num_classes=5, num_layers=4)
    assert (kdp.alpha, kdp.temperature) == (0.5, 2.0)
    losses = kdp.loss(_inputs(token_logits=TOKEN, teacher_logits=TEACHER))
    ce = _ce_by_hand(STUDENT, LABELS, *TASK)
    kl = _kl_by_hand(TOKEN, TEACHER, 2.0, *TASK)
    assert losses['loss_ce'].item() == pytest.approx(0.5 * ce, rel=1e-5)
    assert losses['loss_kd'].item() == pytest.approx(0.5 * 4 * kl, rel=1e-5)
    # the classes outside the slice play no role
    other = TEACHER.clone()
    other[:, 0] = -50
    other[:, 4] = 50
    torch.testing.assert_close(
        kdp.loss(_inputs(token_logits=TOKEN, teacher_logits=other))['loss_kd'],
        losses['loss_kd'])


def test_kdp_inference_rule():
    kdp = KDPDistill(embed_dims=8, num_classes=5, num_layers=4, alpha=0.3)
    torch.testing.assert_close(
        kdp.predict_logits(STUDENT, TOKEN), 0.7 * STUDENT + 0.3 * TOKEN)


def test_logit_kd_by_hand():
    kd = LogitKD(embed_dims=8, num_classes=5, alpha=0.5, temperature=4.0)
    losses = kd.loss(_inputs(teacher_logits=TEACHER))
    assert losses['loss_ce'].item() == pytest.approx(
        0.5 * _ce_by_hand(STUDENT, LABELS, *TASK), rel=1e-5)
    assert losses['loss_kd'].item() == pytest.approx(
        0.5 * 16 * _kl_by_hand(STUDENT, TEACHER, 4.0, *TASK), rel=1e-5)
    torch.testing.assert_close(kd.predict_logits(STUDENT, None), STUDENT)


def test_dist_token_by_hand():
    deit = DistTokenKD(embed_dims=8, num_classes=5)
    losses = deit.loss(_inputs(token_logits=TOKEN, teacher_logits=TEACHER))
    # teacher's hard labels inside the slice [1, 4): 1 and 2
    hard = torch.tensor([1, 2])
    assert losses['loss_kd'].item() == pytest.approx(
        0.5 * _ce_by_hand(TOKEN, hard, *TASK), rel=1e-5)
    torch.testing.assert_close(
        deit.predict_logits(STUDENT, TOKEN), (STUDENT + TOKEN) / 2)


def _student_and_teacher(distill, prompt=None):
    torch.manual_seed(0)
    teacher = build(classifier_cfg(prompt=prompt))
    student = build(classifier_cfg(prompt=prompt, distill=distill))
    for model in (teacher, student):
        model.begin_task(1, 4, (2, 4))
    student.attach_teacher(teacher)
    return student, teacher


def test_kdp_in_the_classifier():
    student, teacher = _student_and_teacher(
        dict(type='KDPDistill'), prompt=dict(type='L2PPrompt', pool_size=6))
    kdp = student.distill
    assert kdp.kd_prompt.layers == (1, 2, 3)  # 1 .. depth - 1
    assert kdp.kd_prompt.length == 6
    assert kdp.kd_last.out_features == 6
    trainable = {id(p) for p in student.trainable_parameters()}
    assert id(kdp.kd_prompt.kd_token) in trainable
    assert id(kdp.kd_last.weight) in trainable
    # the teacher is no child: not in the state dict nor in the parameters
    assert not any(k.startswith('teacher') for k in student.state_dict())
    assert all(m is not teacher for m in student.modules())
    assert not any(p.requires_grad for p in teacher.parameters())

    x = images(3)
    labels = torch.tensor([2, 3, 3])
    student.train()
    losses = student.loss(x, samples(labels))
    assert set(losses) == {'loss_ce', 'loss_kd', 'loss_prompt'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is None for p in student.backbone.parameters())
    assert kdp.kd_prompt.kd_token.grad.abs().sum() > 0
    assert kdp.kd_prompt.prompts.grad.abs().sum() > 0

    # by hand: CE on last(CLS), KL of kd_last(KD) to the teacher's CLS
    with torch.no_grad():
        query = encode_tokens(student.backbone, x)[:, 0]
        prefixes, prompt_loss = student.prompt(query, train=True)
        kd_prefixes, token = kdp.kd_prompt(3)
        for layer, (k, v) in kd_prefixes.items():
            if layer in prefixes:
                pk, pv = prefixes[layer]
                kd_prefixes[layer] = (torch.cat([pk, k],
                                                1), torch.cat([pv, v], 1))
        prefixes.update(kd_prefixes)
        feats = encode_tokens(student.backbone, x, prefixes, token)
        cls_logits = student.last(feats[:, 0])
        kd_logits = kdp.kd_last(feats[:, -1])
        t_logits = teacher.forward_logits(x)[0]
    assert feats.shape[1] == 1 + 64 + 1
    assert losses['loss_ce'].item() == pytest.approx(
        0.5 * _ce_by_hand(cls_logits, labels, 2, 4), rel=1e-4)
    assert losses['loss_kd'].item() == pytest.approx(
        0.5 * 4 * _kl_by_hand(kd_logits, t_logits, 2.0, 2, 4), rel=1e-4)
    torch.testing.assert_close(losses['loss_prompt'], prompt_loss)
    # inference: (1 - a) last(CLS) + a kd_last(KD), unseen classes masked
    student.eval()
    torch.testing.assert_close(
        student.predict_logits(x), 0.5 * cls_logits + 0.5 * kd_logits)
    scores = torch.stack([p.pred_score for p in student.predict(x)])
    torch.testing.assert_close(
        scores[:, :4],
        torch.softmax(0.5 * (cls_logits + kd_logits)[:, :4], dim=1))


@pytest.mark.parametrize('distill', ['LogitKD', 'DistTokenKD'])
def test_baselines_in_the_classifier(distill):
    student, teacher = _student_and_teacher(dict(type=distill))
    losses = student.loss(images(2), samples([2, 3]))
    assert set(losses) == {'loss_ce', 'loss_kd', 'loss_prompt'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in teacher.parameters())
    x = images(2)
    cls_logits, token_logits, _ = student.forward_logits(x)
    if distill == 'LogitKD':
        assert token_logits is None
        torch.testing.assert_close(student.predict_logits(x), cls_logits)
    else:
        assert student.distill.dist_token.grad.abs().sum() > 0
        torch.testing.assert_close(
            student.predict_logits(x), (cls_logits + token_logits) / 2)


def test_distill_needs_a_teacher():
    model = build(classifier_cfg(distill=dict(type='KDPDistill')))
    model.begin_task(0, 2, (0, 2))
    with pytest.raises(RuntimeError, match='needs a teacher'):
        model.loss(images(2), samples([0, 1]))
    with pytest.raises(ValueError, match=r'layers=\[1, 9\].*depth 4'):
        build(
            classifier_cfg(
                distill=dict(type='KDPDistill', prompt_layers=(1, 9))))
    with pytest.raises(ValueError, match='length=5'):
        build(classifier_cfg(distill=dict(type='KDPDistill', prompt_length=5)))
    other = build(classifier_cfg(num_classes=4))
    with pytest.raises(ValueError, match='4 classes'):
        model.attach_teacher(other)
    assert ARCH['num_layers'] == 4
