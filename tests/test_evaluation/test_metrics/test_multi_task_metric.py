import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from had_mm.evaluation import (DepthErrorMetric, MultiTaskMetric,
                               NormalErrorMetric, SaliencyMetric,
                               SemanticIoUMetric, primary_key)
from had_mm.registry import METRICS
from had_mm.tasks import BUILTIN_TASKS, primary_metrics

PRIMARY_METRICS = primary_metrics(BUILTIN_TASKS)

TASK_TYPES = dict(
    semantic=SemanticIoUMetric,
    depth=DepthErrorMetric,
    normal=NormalErrorMetric,
    saliency=SaliencyMetric)


def _data_sample(seed, h=5, w=6, tasks=tuple(TASK_TYPES)):
    g = torch.Generator().manual_seed(seed)
    fields = {}
    if 'semantic' in tasks:
        gt = torch.randint(0, 3, (1, h, w), generator=g)
        gt[0, 0, 0] = 255
        fields['pred_sem_seg'] = torch.randint(0, 3, (1, h, w), generator=g)
        fields['gt_sem_seg'] = gt
    if 'depth' in tasks:
        gt = torch.rand(1, h, w, generator=g) * 5
        gt[0, 0, :2] = 0
        fields['pred_depth_map'] = torch.rand(1, h, w, generator=g) * 5 + .1
        fields['gt_depth_map'] = gt
    if 'normal' in tasks:
        gt = torch.randn(3, h, w, generator=g)
        gt[:, 1, 1] = 0
        fields['pred_normal'] = torch.randn(3, h, w, generator=g)
        fields['gt_normal'] = gt
    if 'saliency' in tasks:
        gt = (torch.rand(1, h, w, generator=g) < .4).to(torch.uint8)
        gt[0, -1, -1] = 255
        fields['pred_saliency'] = torch.rand(1, h, w, generator=g)
        fields['gt_saliency'] = gt
    sample = SegDataSample()
    for key, data in fields.items():
        setattr(sample, key, PixelData(data=data))
    return sample


def _evaluate(metric, samples):
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = dict(classes=('wall', 'floor', 'bed'))
    evaluator.process(samples[:2], None)
    evaluator.process(samples[2:], None)
    return evaluator.evaluate(len(samples))


def test_delegates_to_task_metrics_with_prefixed_keys():
    samples = [_data_sample(s) for s in range(4)]
    res = _evaluate(MultiTaskMetric(num_classes=3), samples)
    for task, metric_type in TASK_TYPES.items():
        kwargs = dict(num_classes=3) if task == 'semantic' else {}
        single = metric_type(**kwargs)
        single.dataset_meta = dict(classes=('wall', 'floor', 'bed'))
        single.process(None, [s.to_dict() for s in samples])
        expected = single.evaluate(len(samples))
        for key, value in expected.items():
            assert res[f'{task}/{key}'] == pytest.approx(value)
        assert primary_key(task) in res
    assert 'semantic/IoU.floor' in res
    assert {k.split('/')[0] for k in res} == set(TASK_TYPES)


def test_primary_metrics():
    assert PRIMARY_METRICS == {
        'semantic': ('mIoU', 1),
        'depth': ('abs_err', -1),
        'normal': ('mean', -1),
        'saliency': ('max_f', 1)
    }
    assert primary_key('depth') == 'depth/abs_err'


def test_set_tasks_and_unknown_task():
    metric = MultiTaskMetric(tasks=['depth'], num_classes=3)
    with pytest.raises(ValueError, match='valid tasks are'):
        metric.set_tasks(['depth', 'edges'])
    with pytest.raises(ValueError, match='valid tasks are'):
        MultiTaskMetric(tasks=['semseg'])
    with pytest.raises(ValueError):
        metric.set_tasks([])
    samples = [_data_sample(s) for s in range(3)]
    res = _evaluate(metric, samples)
    assert set(k.split('/')[0] for k in res) == {'depth'}
    metric.set_tasks(['depth', 'saliency', 'depth'])
    assert metric.tasks == ('depth', 'saliency')
    res = _evaluate(metric, samples)
    assert set(k.split('/')[0] for k in res) == {'depth', 'saliency'}


def test_skips_samples_without_label_and_checks_predictions():
    metric = MultiTaskMetric(tasks=['depth', 'normal'])
    samples = [
        _data_sample(0, tasks=('depth', 'normal')),
        _data_sample(1, tasks=('depth', ))
    ]
    res = _evaluate(metric, samples)
    single = NormalErrorMetric()
    single.process(None, [samples[0].to_dict()])
    assert res['normal/mean'] == pytest.approx(single.evaluate(1)['mean'])

    metric = MultiTaskMetric(tasks=['depth', 'normal'])
    with pytest.raises(ValueError, match="no data sample carried 'gt_normal'"):
        _evaluate(metric, [_data_sample(2, tasks=('depth', ))])

    broken = _data_sample(3, tasks=('depth', )).to_dict()
    del broken['pred_depth_map']
    with pytest.raises(KeyError, match='pred_depth_map'):
        MultiTaskMetric(tasks=['depth']).process(None, [broken])


def test_task_cfgs_and_registry():
    metric = METRICS.build(
        dict(
            type='MultiTaskMetric',
            tasks=('saliency', 'normal'),
            task_cfgs=dict(
                saliency=dict(beta2=1.0), normal=dict(thresholds=(5, )))))
    assert metric.task_metrics['saliency'].beta2 == 1.0
    res = _evaluate(metric, [_data_sample(s) for s in range(3)])
    assert 'normal/within_5' in res and 'normal/within_30' not in res
    with pytest.raises(ValueError, match='valid tasks are'):
        MultiTaskMetric(task_cfgs=dict(edges={}))


def test_semantic_needs_classes():
    metric = MultiTaskMetric(tasks=['semantic'])
    sample = _data_sample(0, tasks=('semantic', )).to_dict()
    with pytest.raises(ValueError, match='num_classes'):
        metric.process(None, [sample])
    metric.dataset_meta = dict(classes=('wall', 'floor', 'bed'))
    metric.process(None, [sample])
    assert 'semantic/IoU.bed' in metric.evaluate(1)
