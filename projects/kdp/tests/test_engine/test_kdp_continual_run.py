"""A 2-task continual distillation run (teacher then student, KDP) on the
procedural shapes with tiny random-init ViTs, and bad input at set-up."""
import copy
import csv
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook

from had_mm.apis import build_runner, load_tool_config

HERE = osp.dirname(osp.abspath(__file__))
TINY = osp.join(osp.dirname(HERE), 'data', 'tiny_kdp.py')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(HERE))))


class _StageRecorder(Hook):
    """Copies the teacher's trainable weights after every stage."""

    def __init__(self):
        self.snapshots = []

    def after_train_epoch(self, runner):
        model = runner.model
        self.snapshots.append((runner.train_loop.epoch, model.stage, [
            p.detach().clone() for p in model.teacher.trainable_parameters()
        ]))


def _runner(tmp_path, **options):
    cfg = load_tool_config(TINY, options or None, str(tmp_path / 'work'))
    return build_runner(cfg, for_training=True)


def test_two_task_kdp_run_writes_reports_and_resets_optimizers(tmp_path):
    runner = _runner(tmp_path)
    loop = runner.train_loop
    assert loop.stages == ['teacher', 'student']
    assert loop.num_tasks == 2 and loop.max_iters == 8
    recorder = _StageRecorder()
    runner.register_hook(recorder, priority='LOWEST')
    runner.train()

    # reports after every task, in <work_dir>/continual
    out = osp.join(str(tmp_path / 'work'), 'continual')
    with open(osp.join(out, 'continual_report.json')) as f:
        report = json.load(f)
    for name in ('student', 'teacher'):
        summary = report[name]
        matrix = summary['matrix']
        assert len(matrix) == 2 and all(len(r) == 2 for r in matrix)
        assert matrix[0][1] is None
        assert all(0 <= v <= 100 for r in matrix for v in r if v is not None)
        final = (matrix[1][0] + matrix[1][1]) / 2
        assert summary['average_accuracy'] == pytest.approx(final)
        assert summary['forgetting'] == pytest.approx(
            (matrix[0][0] - matrix[1][0]) / 2)
        with open(osp.join(out, f'accuracy_matrix_{name}.csv')) as f:
            assert len(list(csv.reader(f))) == 3
    assert report['task_classes'] == [[0, 2], [2, 4]]
    for t in (1, 2):
        assert osp.isfile(osp.join(str(tmp_path / 'work'), f'task_{t}.pth'))

    # a new optimizer per task and stage, over that stage's parameters,
    # with an empty state and the learning rate restarted
    log = loop.stage_log
    assert [(r['task'], r['stage']) for r in log] == [(0, 'teacher'),
                                                      (0, 'student'),
                                                      (1, 'teacher'),
                                                      (1, 'student')]
    assert len({r['optimizer_id'] for r in log}) == 4
    assert all(r['state_empty'] for r in log)
    assert all(r['lr'] == [1e-3] for r in log)
    model = runner.model
    teacher_ids = {id(p) for p in model.teacher.trainable_parameters()}
    student_ids = {id(p) for p in model.student.trainable_parameters()}
    for r in log:
        ids = set(r['param_ids'])
        assert ids == (teacher_ids if r['stage'] == 'teacher' else student_ids)
    # the last optimizer was used, and its cosine schedule ran out
    optimizer = runner.optim_wrapper.optimizer
    assert len(optimizer.state) > 0
    assert optimizer.param_groups[0]['lr'] < 1e-3

    # the teacher is frozen while the student learns
    snaps = recorder.snapshots
    assert [(s[0], s[1]) for s in snaps] == [(0, 'teacher'), (0, 'student'),
                                             (1, 'teacher'), (1, 'student')]
    for a, b in zip(snaps[0][2] + snaps[2][2], snaps[1][2] + snaps[3][2]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert any(not torch.equal(a, b) for a, b in zip(snaps[1][2], snaps[2][2]))


def test_student_alone_has_one_stage(tmp_path):
    runner = _runner(
        tmp_path, **{
            'model.teacher': None,
            'model.student.distill': None,
            'train_cfg.num_tasks_to_run': 1
        })
    runner.train()
    loop = runner.train_loop
    assert loop.stages == ['student']
    assert [r['stage'] for r in loop.stage_log] == ['student']
    with open(
            osp.join(
                str(tmp_path / 'work'), 'continual',
                'continual_report.json')) as f:
        report = json.load(f)
    assert 'teacher' not in report
    assert len(report['student']['matrix']) == 1
    assert report['student']['forgetting'] == 0.0


@pytest.mark.parametrize('options, words', [
    ({
        'train_dataloader.dataset.class_order': [0, 1, 1, 3]
    }, ['class_order', 'repeated classes: [1]', 'missing classes: [2]']),
    ({
        'train_dataloader.dataset.num_tasks': 3
    }, ['does not divide']),
    ({
        'model.student.prompt.layers': [0, 1, 2, 3, 4, 5, 6]
    }, ['depth']),
])
def test_bad_input_fails_before_training(tmp_path, options, words):
    with pytest.raises(ValueError) as err:
        _runner(tmp_path, **options)
    for word in words:
        assert word in str(err.value)


def test_checkpoint_of_another_vit_size_is_refused(tmp_path):
    from had_mm.registry import MODELS
    cfg = load_tool_config(TINY, None, str(tmp_path / 'work'))
    other = copy.deepcopy(cfg.model.teacher.backbone.to_dict())
    state = MODELS.build(other).state_dict()  # the teacher's width
    path = str(tmp_path / 'wrong.pth')
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in state.items()
        }), path)
    with pytest.raises(ValueError, match='another ViT size'):
        _runner(tmp_path, **{'model.student.backbone_checkpoint': path})


def test_train_tool_reports_bad_input_in_one_line(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'had_mm_train_tool', osp.join(REPO, 'tools', 'train.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit) as err:
        tool.main([
            TINY, '--work-dir',
            str(tmp_path / 'work'), '--cfg-options',
            'val_dataloader.dataset.class_order=[0,1,2]'
        ])
    assert err.value.code == 2


@pytest.mark.parametrize('distill, teacher', [
    (dict(type='ReviewKDDistill', student_layers=[1, 4]), True),
    (dict(type='KDPCapacityControl'), False),
])
def test_new_modes_run_two_tasks(tmp_path, distill, teacher):
    options = {'model.student.distill': dict(_delete_=True, **distill)}
    if not teacher:
        options['model.teacher'] = None
    runner = _runner(tmp_path, **options)
    runner.train()
    loop = runner.train_loop
    assert [r['stage'] for r in loop.stage_log
            ] == (['teacher', 'student'] * 2 if teacher else ['student'] * 2)
    with open(
            osp.join(
                str(tmp_path / 'work'), 'continual',
                'continual_report.json')) as f:
        report = json.load(f)
    assert len(report['student']['matrix']) == 2
    # CODA's second task's components were re-initialised (Gram-Schmidt)
    for model in (runner.model.student, runner.model.teacher):
        if model is not None:
            assert int(model.prompt.reinit_task) == 1
