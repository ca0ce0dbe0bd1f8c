"""The lifelong loop with a heterogeneous (MiT) teacher, via tools/train.py."""
import os
import os.path as osp

import pytest
import torch
from test_lifelong_train_loop import HELPERS, TINY, _state, _train

TINY_TEACHER = osp.join(osp.dirname(TINY), 'tiny_heteroakd_teacher.py')


@pytest.fixture(scope='module')
def hetero_config(tmp_path_factory):
    """A tiny 3-phase run whose teacher is a tiny MiT (random weights)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import had_mm  # noqa: F401
    from had_mm.registry import MODELS
    init_default_scope('had_mm')
    tmp = tmp_path_factory.mktemp('hetero')
    torch.manual_seed(0)
    mit = MODELS.build(Config.fromfile(TINY_TEACHER).model)
    ckpt = tmp / 'mit.pth'
    torch.save({'state_dict': mit.state_dict(), 'meta': {}}, ckpt)
    config = tmp / 'hetero.py'
    config.write_text(
        f"_base_ = ['{TINY}']\n"
        'train_cfg = dict(teacher=dict(\n'
        "    type='HeteroLifelongTeacher',\n"
        f"    teacher_cfg='{TINY_TEACHER}', teacher_ckpt='{ckpt}',\n"
        "    recorders=dict(stages=dict(type='ModuleOutputsRecorder',\n"
        "                               source='backbone')),\n"
        "    stages=[dict(recorder='stages', data_idx=3)],\n"
        '    channels=8, fit_iters=2))\n')
    return config


@pytest.fixture(scope='module')
def hetero_run(hetero_config, synthetic_rooms_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('hetero_full')
    _, out = _train(work, synthetic_rooms_root, config=str(hetero_config))
    return work, out


def test_old_tasks_are_taught_through_fitted_adapters(hetero_run):
    work, out = hetero_run
    for task in ('semantic', 'depth', 'normal'):
        assert f'fitted the {task} adapter in 2 iterations' in out
    last = [ln for ln in out.splitlines() if 'Iter(train) [9/9]' in ln][0]
    assert 'semantic.loss_distill' in last and 'depth.loss_distill' in last
    state = _state(work / 'phase_2_depth.pth')['lifelong']
    assert state['hetero_teacher']['fitted_tasks'] == ['semantic', 'depth']
    assert 'teacher_state_dict' not in state
    # the adapters are not part of the student's weights
    assert not any('adapter' in k
                   for k in _state(work / 'phase_3_normal.pth')['state_dict'])


def test_resume_mid_phase_equals_uninterrupted(hetero_run, hetero_config,
                                               synthetic_rooms_root, tmp_path):
    full, _ = hetero_run
    work = tmp_path / 'crash'
    crashing = tmp_path / 'crashing.py'
    crashing.write_text(
        f"_base_ = ['{hetero_config}']\n"
        "custom_imports = dict(imports=['had_mm', 'crash_hook'])\n"
        "custom_hooks = [dict(type='KillAtIterHook', at=8)]\n"
        'default_hooks = dict(checkpoint=dict(interval=7))\n')
    env = {'PYTHONPATH': HELPERS + os.pathsep + osp.dirname(HELPERS)}
    proc, _ = _train(
        work, synthetic_rooms_root, config=str(crashing), env=env, ok=False)
    assert proc.returncode != 0 and osp.isfile(work / 'iter_7.pth')
    _, out = _train(
        work, synthetic_rooms_root, '--resume', config=str(hetero_config))
    assert 'resumed at iteration 7' in out
    # the adapters fitted before the kill come from the checkpoint
    assert 'fitted the semantic adapter' not in out
    ref = _state(full / 'phase_3_normal.pth')
    res = _state(work / 'phase_3_normal.pth')
    assert res['lifelong']['matrix'] == ref['lifelong']['matrix']
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(res['state_dict'][key], value, msg=key)


def test_missing_teacher_checkpoint_fails_before_training(
        synthetic_rooms_root, hetero_config, tmp_path):
    proc, out = _train(
        tmp_path / 'w',
        synthetic_rooms_root,
        f'train_cfg.teacher.teacher_ckpt={tmp_path}/none.pth',
        config=str(hetero_config),
        ok=False)
    assert proc.returncode != 0
    assert 'none.pth" does not exist' in out and 'Traceback' not in out
    assert 'Iter(train)' not in out


def test_pseudo_label_cache_serves_the_heterogeneous_teacher(
        hetero_config, synthetic_rooms_root, tmp_path):
    """Without augmentation, the cached run (its adapters' raw outputs
    computed once per phase) ends with the online run's weights."""
    no_flip = 'train_dataloader.dataset.pipeline.2.prob=0.0'
    runs = {}
    for name, opts in (('online', [no_flip]),
                       ('cached',
                        [no_flip, 'train_cfg.pseudo_label_cache=True'])):
        _, out = _train(
            tmp_path / name,
            synthetic_rooms_root,
            *opts,
            config=str(hetero_config))
        runs[name] = out
    lines = [
        ln for ln in runs['cached'].splitlines() if 'pseudo-label cache:' in ln
    ]
    assert len(lines) == 2 and 'semantic 13' in lines[0], runs['cached']
    ref = _state(tmp_path / 'online' / 'phase_3_normal.pth')
    res = _state(tmp_path / 'cached' / 'phase_3_normal.pth')
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(res['state_dict'][key], value, msg=key)
