"""HeteroLifelongTeacher: a frozen MiT teaching a ResNet lifelong student."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from distill_helpers import TINY_TEACHER, build
from tiny_model import tiny_predictor_cfg

from had_mm.datasets.transforms import PackMultiTaskInputs
from had_mm.engine.distill import fit_teacher_adapter

STAGES = [
    dict(recorder='stages', data_idx=1),
    dict(recorder='stages', data_idx=3)
]


def _teacher_cfg(ckpt, **kwargs):
    return dict(
        type='HeteroLifelongTeacher',
        teacher_cfg=TINY_TEACHER,
        teacher_ckpt=ckpt,
        recorders=dict(
            stages=dict(type='ModuleOutputsRecorder', source='backbone')),
        stages=STAGES,
        channels=8,
        **kwargs)


def _raw_batch(h=32, w=40):
    rng = np.random.default_rng(0)
    items = []
    for _ in range(2):
        img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        # depth follows the image, so a frozen teacher can learn it
        depth = 1 + img.mean(-1).astype(np.float32) / 64
        normal = img.astype(np.float32) - 127.5
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True) + 1e-6
        items.append(PackMultiTaskInputs().transform(
            dict(
                img=img,
                img_shape=(h, w),
                ori_shape=(h, w),
                gt_seg_map=(img[..., 0] // 20).astype(np.uint8),
                gt_depth_map=depth,
                gt_normal=normal)))
    return dict(
        inputs=[i['inputs'] for i in items],
        data_samples=[i['data_samples'] for i in items])


@pytest.fixture
def student():
    torch.manual_seed(0)
    return build(tiny_predictor_cfg(('semantic', 'depth', 'normal')))


def _fit(teacher, student, task, iters=30):
    batch = _raw_batch()
    return fit_teacher_adapter(
        teacher,
        task,
        student,
        itertools.repeat(batch),
        iters,
        preprocess=lambda b: student.data_preprocessor(b, True))


def test_missing_checkpoint_names_the_key(tmp_path):
    with pytest.raises(
            FileNotFoundError, match='train_cfg.teacher.'
            'teacher_ckpt'):
        build(_teacher_cfg(str(tmp_path / 'nope.pth')))


def test_adapter_shapes_come_from_the_teacher(teacher_ckpt, student):
    teacher = build(_teacher_cfg(teacher_ckpt))
    # tiny MiT: stages 1 and 3 have 8 and 16 channels, strides 8 and 32
    assert teacher.probe['channels'] == [8, 16]
    assert teacher.probe['strides'] == [8, 32]
    assert list(teacher.state_dict()) == []  # frozen model not carried
    with pytest.raises(RuntimeError, match='no fitted adapter'):
        teacher.head_outputs([], ['semantic'], (32, 40), student)


def test_fit_trains_only_the_adapter_and_freezes_it(teacher_ckpt, student):
    teacher = build(_teacher_cfg(teacher_ckpt, fit_lr=1e-2))
    frozen = {k: v.clone() for k, v in teacher.teacher.state_dict().items()}
    student_before = {k: v.clone() for k, v in student.state_dict().items()}
    first = _fit(teacher, student, 'depth', iters=1)['loss_depth']
    # a second fit continues the same adapter
    last = _fit(teacher, student, 'depth', iters=40)['loss_depth']
    assert last < 0.5 * first
    assert teacher.fitted_tasks == ['depth']
    assert list(teacher.heads) == ['depth']
    assert not any(p.requires_grad for p in teacher.parameters())
    for k, v in teacher.teacher.state_dict().items():
        torch.testing.assert_close(v, frozen[k], msg=k)
    for k, v in student.state_dict().items():
        torch.testing.assert_close(v, student_before[k], msg=k)


def test_pseudo_labels_are_the_students_head_outputs_of_the_adapter(
        teacher_ckpt, student):
    teacher = build(_teacher_cfg(teacher_ckpt))
    _fit(teacher, student, 'semantic', iters=2)
    _fit(teacher, student, 'normal', iters=2)
    inputs = torch.randn(2, 3, 32, 40)
    feats = teacher.extract_feat(inputs)
    out = teacher.head_outputs(feats, ['semantic', 'normal'], (32, 40),
                               student)
    # by hand: summed stage projections at the student's stride (8), then
    # the student's post-processing (bilinear up; unit normals)
    for task in ('semantic', 'normal'):
        adapter = teacher.adapters[task]
        raw = sum(
            F.interpolate(
                proj(f), (4, 5), mode='bilinear', align_corners=False)
            for proj, f in zip(adapter.projectors, feats))
        up = F.interpolate(raw, (32, 40), mode='bilinear', align_corners=False)
        if task == 'normal':
            up = F.normalize(up, dim=1)
        torch.testing.assert_close(out[task], up)
    assert out['semantic'].shape == (2, 13, 32, 40)
    norms = out['normal'].norm(dim=1)
    torch.testing.assert_close(norms, torch.ones_like(norms))


def test_student_distils_from_it_and_state_round_trips(teacher_ckpt, student):
    from had_mm.registry import MODELS
    teacher = build(_teacher_cfg(teacher_ckpt))
    _fit(teacher, student, 'semantic', iters=2)
    student.attach_teacher(
        teacher,
        losses=dict(
            semantic=MODELS.build(dict(type='HADLoss', task='semantic'))),
        weight=3.0)
    data = student.data_preprocessor(_raw_batch(), True)
    losses = student.loss(data['inputs'], data['data_samples'], ['depth'])
    assert set(losses) == {'depth.loss_depth', 'semantic.loss_distill'}
    sum(losses.values()).backward()
    assert student.heads['semantic'].conv_seg.weight.grad is not None
    assert teacher.adapters['semantic'].projectors[0][1].weight.grad is None

    fresh = build(_teacher_cfg(teacher_ckpt))
    fresh.load_lifelong_state(teacher.lifelong_state(), student)
    assert fresh.fitted_tasks == ['semantic']
    inputs = data['inputs']
    a = teacher.head_outputs(
        teacher.extract_feat(inputs), ['semantic'], inputs.shape[2:], student)
    b = fresh.head_outputs(
        fresh.extract_feat(inputs), ['semantic'], inputs.shape[2:], student)
    torch.testing.assert_close(a['semantic'], b['semantic'])
