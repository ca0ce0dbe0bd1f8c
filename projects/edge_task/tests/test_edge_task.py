"""The edge task type: labels, loss, metric, spec, and a 5-task run."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TINY = osp.join(osp.dirname(__file__), 'data', 'tiny_5tasks_edge.py')

SEG = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 255, 1], [2, 2, 2, 1]])
# by hand: a valid pixel is an edge when a valid 4-neighbour has another
# class; the ignored pixel stays 255 and separates nothing
EDGES = np.array([[0, 1, 1, 0], [1, 1, 1, 0], [1, 1, 255, 0], [0, 0, 1, 1]])


def test_edges_from_semantic_hand():
    from projects.edge_task.edge_task import edges_from_semantic
    out = edges_from_semantic(SEG)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, EDGES)
    # a flip of the map flips its edges
    np.testing.assert_array_equal(
        edges_from_semantic(SEG[:, ::-1]), EDGES[:, ::-1])


def test_spec_is_in_the_table():
    from had_mm.tasks import get_task, task_names
    spec = get_task('edge')
    assert task_names()[-1] == 'edge'
    assert (spec.label_key, spec.label_field, spec.pred_field) == \
        ('gt_edge', 'gt_edge', 'pred_edge')
    assert spec.distill_kind == 'binary' and spec.label_source == 'semantic'
    assert spec.primary_key() == 'edge/ods_f'
    assert spec.primary_direction == 1 and spec.pad_value == 255


def test_dataset_and_pipeline_derive_edges(tiny_rooms):
    from had_mm.registry import DATASETS
    from projects.edge_task.edge_task import edges_from_semantic
    dataset = DATASETS.build(
        dict(
            type='NYUv2MultiTaskDataset',
            data_root=tiny_rooms,
            split='train',
            tasks=['edge'],
            pipeline=[
                dict(type='LoadMultiTaskImage'),
                dict(type='LoadMultiTaskAnnotations'),
                dict(type='MultiTaskRandomFlip', prob=1.0),
                dict(type='PackMultiTaskInputs')
            ]))
    info = dataset.get_data_info(0)
    assert info['edge_path'].endswith('.png') and 'seg13' in info['edge_path']
    sample = dataset[0]['data_samples']
    assert 'gt_sem_seg' not in sample  # only the phase's own label
    edge = sample.gt_edge.data
    assert edge.shape == (1, 32, 40) and edge.dtype == torch.int64
    # the flipped edges of the semantic map, loaded by hand
    seg = dataset.pipeline.transforms[1](dict(
        semantic_path=info['edge_path'], num_classes=13,
        tasks=['semantic']))['gt_seg_map']
    np.testing.assert_array_equal(edge[0].numpy(),
                                  edges_from_semantic(seg)[:, ::-1])


def test_class_mean_bce_hand():
    from projects.edge_task.edge_task import ClassMeanBCELoss
    loss = ClassMeanBCELoss()
    # edge logit 0 (bce ln 2); non-edge logits 0 and ln 3 (bce ln 2 and
    # ln 4); the ignored pixel does not count
    pred = torch.tensor([0.0, 0.0, math.log(3), 5.0]).view(1, 1, 2, 2)
    target = torch.tensor([1, 0, 0, 255]).view(1, 1, 2, 2)
    expected = (math.log(2) + (math.log(2) + math.log(4)) / 2) / 2
    assert float(loss(pred, target)) == pytest.approx(expected)
    # one class only: that class's mean; no valid pixel: 0
    assert float(loss(pred[..., :1, :1], target[..., :1, :1])) == \
        pytest.approx(math.log(2))
    empty = loss(pred, torch.full_like(target, 255))
    assert float(empty) == 0


def test_edge_max_f_hand():
    from projects.edge_task.edge_task import EdgeMaxFMetric
    metric = EdgeMaxFMetric(thresholds=(0.25, 0.5, 0.75))
    # two images, counted together (one threshold for the data set):
    # t=0.25: TP 2 FP 1 FN 0 -> F 0.8; t=0.5: F 0.5; t=0.75: F 2/3
    parts = metric.process_pairs(
        [torch.tensor([[[0.9, 0.6]]]),
         torch.tensor([[[0.3, 0.1, 0.99]]])],
        [torch.tensor([[[1, 0]]]),
         torch.tensor([[[1, 0, 255]]])])
    res = metric.compute_from(parts)
    assert res['ods_f'] == pytest.approx(80.0)
    assert res['ods_threshold'] == 0.25
    with pytest.raises(ValueError, match='no edge pixel'):
        metric.compute_from(
            metric.process_pairs([torch.zeros(1, 1, 2)],
                                 [torch.zeros(1, 1, 2, dtype=torch.long)]))


def test_multi_task_metric_and_had_know_edge():
    from had_mm.models.losses import HADLoss
    from had_mm.registry import METRICS
    metric = METRICS.build(
        dict(type='MultiTaskMetric', tasks=['depth', 'edge']))
    assert type(metric.task_metrics['edge']).__name__ == 'EdgeMaxFMetric'
    # HAD of a binary task: edge is distilled as saliency is
    gen = torch.Generator().manual_seed(0)
    student = torch.randn(2, 1, 8, 8, generator=gen)
    teacher = torch.randn(2, 1, 8, 8, generator=gen)
    for preset in ('default', 'reference'):
        edge = HADLoss('edge', preset=preset)(student, teacher)
        sal = HADLoss('saliency', preset=preset)(student, teacher)
        assert torch.isfinite(edge) and float(edge) == float(sal)


def test_five_task_lifelong_run(tiny_rooms, tmp_path):
    """semantic -> depth -> normal -> saliency -> edge with HAD, one
    iteration a phase, through tools/train.py as a user runs it."""
    work = tmp_path / 'work'
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '1')
    cmd = [
        sys.executable, 'tools/train.py', TINY, '--work-dir',
        str(work), '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_rooms}',
        f'val_dataloader.dataset.data_root={tiny_rooms}',
        f'test_dataloader.dataset.data_root={tiny_rooms}'
    ]
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    report = json.load(open(work / 'lifelong' / 'lifelong_report.json'))
    assert report['tasks'] == [
        'semantic', 'depth', 'normal', 'saliency', 'edge'
    ]
    matrix = report['matrix']
    assert len(matrix) == 5 and all(v is not None for v in matrix[4])
    assert report['metric_names'][4] == 'ods_f'
    assert 'edge/ods_f' in report['final_metrics']
    assert 0 <= matrix[4][4] <= 100
    # the edge phase distils the four old tasks and trains its own loss
    last = [ln for ln in out.splitlines() if 'Iter(train) [5/5]' in ln][0]
    assert 'edge.loss_edge' in last and 'saliency.loss_distill' in last


def test_project_config_builds():
    """The full-size 5-task config: known types, a head per phase, every
    phase evaluated."""
    from mmengine.registry import init_default_scope

    from had_mm.apis import load_config
    from had_mm.registry import MODELS
    cfg = load_config(
        osp.join(REPO, 'projects', 'edge_task', 'configs',
                 'had-r18-d8_synthetic-rooms_5tasks_edge.py'))
    init_default_scope('had_mm')
    model = MODELS.build(cfg.model)
    tasks = [p['task'] for p in cfg.train_cfg.phases]
    assert tasks == ['semantic', 'depth', 'normal', 'saliency', 'edge']
    assert model.tasks == tasks
    assert cfg.val_evaluator.tasks == tasks
    assert cfg.val_dataloader.dataset.tasks == tasks
    assert type(model.heads['edge']).__name__ == 'EdgeHead'
