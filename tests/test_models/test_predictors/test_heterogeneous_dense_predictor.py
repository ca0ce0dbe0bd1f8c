import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from tiny_model import tiny_predictor_cfg

from had_mm.datasets.transforms import PackMultiTaskInputs
from had_mm.registry import MODELS


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('had_mm')


def _batch(n=2, h=24, w=32, tasks=('semantic', 'depth', 'normal', 'saliency')):
    rng = np.random.default_rng(0)
    items = []
    for _ in range(n):
        normal = rng.normal(size=(h, w, 3)).astype(np.float32)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        res = dict(
            img=rng.integers(0, 255, (h, w, 3), dtype=np.uint8),
            img_shape=(h, w),
            ori_shape=(h, w))
        labels = dict(
            semantic=('gt_seg_map', rng.integers(0, 13,
                                                 (h, w)).astype(np.uint8)),
            depth=('gt_depth_map', rng.uniform(1, 4,
                                               (h, w)).astype(np.float32)),
            normal=('gt_normal', normal),
            saliency=('gt_saliency', rng.integers(0, 2,
                                                  (h, w)).astype(np.uint8)))
        for t in tasks:
            res[labels[t][0]] = labels[t][1]
        items.append(PackMultiTaskInputs().transform(res))
    return dict(
        inputs=[i['inputs'] for i in items],
        data_samples=[i['data_samples'] for i in items])


def test_loss_for_every_labelled_task_with_one_backbone_pass():
    model = MODELS.build(tiny_predictor_cfg())
    calls = []
    model.backbone.register_forward_hook(lambda *a: calls.append(1))
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    assert calls == [1]
    assert set(k for k in losses if 'loss' in k) == {
        'semantic.loss_ce', 'depth.loss_depth', 'normal.loss_normal',
        'saliency.loss_saliency'
    }
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.heads['depth'].body.conv_seg.weight.grad is not None


def test_loss_subset_and_unlabelled_tasks():
    model = MODELS.build(tiny_predictor_cfg())
    data = model.data_preprocessor(_batch(tasks=('depth', )), training=True)
    losses = model.loss(**data)  # only depth is labelled
    assert {k.split('.')[0] for k in losses} == {'depth'}
    with pytest.raises(KeyError, match='gt_normal'):
        model.loss(**data, tasks=['normal'])
    with pytest.raises(ValueError, match='valid tasks'):
        model.loss(**data, tasks=['edges'])


def test_missing_head():
    model = MODELS.build(tiny_predictor_cfg(('semantic', )))
    data = model.data_preprocessor(_batch(), training=False)
    with pytest.raises(ValueError, match='no head for task'):
        model.predict(**data, tasks=['depth'])


def test_predict_outputs():
    model = MODELS.build(tiny_predictor_cfg()).eval()
    data = model.data_preprocessor(_batch(), training=False)
    with torch.no_grad():
        samples = model(**data, mode='predict')
    s = samples[0]
    assert s.pred_sem_seg.data.shape == (1, 24, 32)
    assert s.pred_depth_map.data.min() > 0
    norms = s.pred_normal.data.norm(dim=0)
    torch.testing.assert_close(norms, torch.ones_like(norms))
    sal = s.pred_saliency.data
    assert sal.min() >= 0 and sal.max() <= 1
    with torch.no_grad():
        fresh = model.data_preprocessor(_batch(), training=False)
        only = model.predict(**fresh, tasks=['depth'])
    assert 'pred_depth_map' in only[0] and 'pred_sem_seg' not in only[0]


def test_distillation_one_teacher_pass_for_all_old_heads():
    import copy
    model = MODELS.build(tiny_predictor_cfg())
    teacher = copy.deepcopy(model)
    losses = {
        t: MODELS.build(dict(type='HADLoss', task=t))
        for t in ('semantic', 'depth', 'normal')
    }
    model.attach_teacher(teacher, losses=losses, weight=3.0)
    t_calls, s_calls = [], []
    teacher.backbone.register_forward_hook(lambda *a: t_calls.append(1))
    model.backbone.register_forward_hook(lambda *a: s_calls.append(1))
    data = model.data_preprocessor(_batch(tasks=('saliency', )), training=True)
    out = model.loss(**data)
    assert t_calls == [1] and s_calls == [1]
    assert {k
            for k in out} == {
                'saliency.loss_saliency', 'semantic.loss_distill',
                'depth.loss_distill', 'normal.loss_distill'
            }
    # lambda scales each HAD term: recompute one by hand
    with torch.no_grad():
        size = data['inputs'].shape[2:]
        s_out = model.head_outputs(
            model.extract_feat(data['inputs']), ['depth'], size)
        t_out = teacher.head_outputs(
            teacher.extract_feat(data['inputs']), ['depth'], size)
        expected = 3.0 * losses['depth'](s_out['depth'], t_out['depth'])
    torch.testing.assert_close(out['depth.loss_distill'].detach(), expected)
    sum(out.values()).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert not any(p.requires_grad for p in teacher.parameters())
    assert model.backbone.stem[0].weight.grad is not None
    # the teacher is not part of the student's modules or state
    assert not any(
        k.startswith('_distill') or 'teacher' in k for k in model.state_dict())
    assert len(list(model.parameters())) == len(list(teacher.parameters()))
    model.detach_teacher()
    assert set(model.loss(**data)) == {'saliency.loss_saliency'}
