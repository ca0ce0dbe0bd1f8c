"""The whole lifelong configuration is checked before phase 1 trains."""
import os.path as osp
import sys

import pytest
from tool_runner import REPO, run_tool

from had_mm.apis import load_config

TINY = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


def _problem(opts: dict) -> str:
    with pytest.raises(ValueError) as err:
        load_config(TINY, opts)
    msg = str(err.value)
    assert '\n' not in msg
    return msg


@pytest.mark.parametrize('opts,needles', [
    ({
        'train_cfg.distill_weight': -1
    }, ['train_cfg.distill_weight must be a number >= 0', '-1']),
    ({
        'train_cfg.phases.1.max_iters': 0
    }, ['train_cfg.phases[1].max_iters must be a positive integer', '0']),
    ({
        'train_cfg.phases.1.max_iters': 1.5
    }, ['train_cfg.phases[1].max_iters must be a positive integer', '1.5']),
    ({
        'train_cfg.phases.2.max_iters': -3
    }, ['train_cfg.phases[2].max_iters must be a positive integer', '-3']),
    ({
        'train_cfg.phases.0.taks': 'depth'
    }, [
        'train_cfg.phases[0]: unknown key "taks"',
        'valid keys are task, max_iters, max_epochs, chunk',
        'Did you mean "task"'
    ]),
    ({
        'train_cfg.distil': None
    }, [
        'train_cfg.distil: LifelongTrainLoop has no argument "distil"',
        'distill_weight', 'Did you mean "distill"'
    ]),
    ({
        'train_cfg.teacher':
        dict(
            type='HeteroLifelongTeacher',
            teacher_cfg='t.py',
            teacher_ckt='t.pth',
            recorders={},
            stages=[])
    }, ['train_cfg.teacher.teacher_ckt', 'Did you mean "teacher_ckpt"']),
    ({
        'train_cfg.distill.taus': 2.0
    }, [
        'train_cfg.distill.taus: HADLoss has no argument "taus"', 'tau,',
        'Did you mean "tau"'
    ]),
])
def test_bad_lifelong_values_are_refused_with_one_line(opts, needles):
    msg = _problem(opts)
    for needle in needles:
        assert needle in msg, msg


def test_a_valid_lifelong_config_passes():
    cfg = load_config(TINY, {'train_cfg.distill_weight': 0})
    assert cfg.train_cfg.distill_weight == 0


def test_other_loops_get_the_argument_check_too():
    tiny_seg = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_seg.py')
    with pytest.raises(ValueError, match='Did you mean "max_iters"'):
        load_config(tiny_seg, {'train_cfg.max_iter': 3})


def _train(work_dir, data_root, *opts):
    return run_tool([
        sys.executable, 'tools/train.py', TINY, '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}', *opts
    ])


@pytest.mark.parametrize(
    'opt,needles',
    [
        # builds, but fails the first time a phase-2 loss runs
        ('train_cfg.distill.threshold=x',
         ['train_cfg.distill', 'old task semantic of phase 2', 'TypeError']),
        # the semantic head has 13 channels
        ('train_cfg.distill.num_classes=5',
         ['old task semantic of phase 2', 'num_classes=5']),
        ('train_cfg.distill_weight=-1',
         ['distill_weight must be a number >= 0']),
    ])
def test_later_phase_distill_errors_come_before_training(
        synthetic_rooms_root, tmp_path, opt, needles):
    proc = _train(tmp_path / 'w', synthetic_rooms_root, opt)
    assert proc.returncode == 2
    assert 'Traceback' not in proc.stdout + proc.stderr
    assert 'Iter(train)' not in proc.stdout + proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(errors) == 1, proc.stderr[-2000:]
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_default_distillation_builds_under_mmseg_scope():
    """The loop's default loss is scoped, so an mmseg-scoped config that
    only adds had_mm's loop still builds HAD."""
    import inspect

    from mmengine.registry import init_default_scope

    from had_mm.engine.loops import LifelongTrainLoop
    from had_mm.models.losses import HADLoss
    from had_mm.registry import MODELS
    default = inspect.signature(LifelongTrainLoop).parameters['distill']
    init_default_scope('mmseg')
    try:
        loss = MODELS.build(dict(default.default, task='depth'))
    finally:
        init_default_scope('had_mm')
    assert isinstance(loss, HADLoss)
