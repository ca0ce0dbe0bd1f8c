"""``--resume`` of a KDP continual run: interrupted inside a stage (or
after a task's last iteration, before its evaluation) and resumed, it ends
with the uninterrupted run's weights and accuracy matrices."""
import json
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook

from had_mm.apis import build_runner, load_tool_config
from had_mm.checkpoint import CheckpointLoadError, read_checkpoint

HERE = osp.dirname(osp.abspath(__file__))
TINY = osp.join(osp.dirname(HERE), 'data', 'tiny_kdp.py')


class _Interrupted(Exception):
    pass


class _InterruptAtIter(Hook):
    """Stop the run after iteration ``at`` (1-based), once every other hook
    of the iteration (checkpointing included) has run, like a kill."""

    priority = 'LOWEST'

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.at:
            raise _Interrupted


def _train(work_dir, interrupt_at=None, **options):
    cfg = load_tool_config(TINY, options or None, str(work_dir))
    runner = build_runner(cfg, for_training=True)
    if interrupt_at is not None:
        runner.register_hook(_InterruptAtIter(interrupt_at))
    runner.train()
    return runner


def _final(work_dir):
    ckpt = read_checkpoint(osp.join(str(work_dir), 'task_2.pth'))
    with open(osp.join(str(work_dir), 'continual',
                       'continual_report.json')) as f:
        report = json.load(f)
    return ckpt['state_dict'], report


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    work = tmp_path_factory.mktemp('kdp_full')
    _train(work)
    return _final(work)


# 2 tasks x (teacher, student) x 2 iterations: iterations 1-2 train task
# 1's teacher, 3-4 its student, 5-6 task 2's teacher, 7-8 its student
@pytest.mark.parametrize(
    'interrupt_at, ckpt',
    [
        (6, 5),  # in task 2's teacher stage
        (4, 3),  # in task 1's student stage, before task 1 was evaluated
        (4, 4),  # after task 1's last iteration, before its evaluation
        (6, None),  # no iteration checkpoints: from task_1.pth
    ])
def test_resume_mid_task_equals_uninterrupted(uninterrupted, tmp_path,
                                              interrupt_at, ckpt):
    work = tmp_path / 'work'
    hook = {} if ckpt is None else {'default_hooks.checkpoint.interval': ckpt}
    with pytest.raises(_Interrupted):
        _train(work, interrupt_at, **hook)
    assert not osp.isfile(work / 'task_2.pth')
    name = 'task_1.pth' if ckpt is None else f'iter_{ckpt}.pth'
    with open(work / 'last_checkpoint') as f:
        assert f.read() == str(work / name)
    state = read_checkpoint(str(work / name))
    assert state['meta']['iter'] == (ckpt or 4)
    assert len(state['lifelong']['matrix']) == (0 if ckpt in (3, 4) else 1)
    # the optimizer of the stage the run was in, not at a task's end
    assert ('optimizer' in state) == (ckpt is not None)

    runner = _train(work, resume=True, **hook)
    assert runner.train_loop.iter == 8
    assert osp.isfile(work / 'task_1.pth')
    weights, report = _final(work)
    ref_weights, ref_report = uninterrupted
    for name in ('student', 'teacher'):
        assert report[name]['matrix'] == ref_report[name]['matrix']
    assert report == ref_report
    assert weights.keys() == ref_weights.keys()
    for key, value in ref_weights.items():
        torch.testing.assert_close(weights[key], value, msg=key)


def test_resume_of_a_complete_run_trains_nothing(uninterrupted, tmp_path):
    work = tmp_path / 'work'
    _train(work)
    first = _final(work)
    runner = _train(work, resume=True)
    assert runner.train_loop.iter == 8
    assert runner.train_loop.stage_log == []  # no stage was trained again
    assert _final(work)[1] == first[1]


def test_resume_with_other_stages_of_a_started_task_is_refused(tmp_path):
    work = tmp_path / 'work'
    hook = {'default_hooks.checkpoint.interval': 3}
    with pytest.raises(_Interrupted):
        _train(work, 4, **hook)
    # the same 4 iterations for task 1, split 3 + 1 instead of 2 + 2
    with pytest.raises(CheckpointLoadError, match='stages of task 1'):
        _train(
            work,
            resume=True,
            **{
                'train_cfg.max_iters': 1,
                'train_cfg.teacher_max_iters': 3
            },
            **hook)
