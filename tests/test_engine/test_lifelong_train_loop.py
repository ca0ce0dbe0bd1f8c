"""The lifelong loop end to end, through tools/train.py."""
import json
import os
import os.path as osp
import shutil
import sys

import pytest
import torch
from tool_runner import REPO, run_tool

TINY = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')
HELPERS = osp.join(REPO, 'tests', 'test_engine', 'helpers')


def _train(work_dir, data_root, *opts, config=TINY, env=None, ok=True):
    cmd = [
        sys.executable, 'tools/train.py', config, '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', *opts
    ]
    proc = run_tool(cmd, env=env)
    out = proc.stdout + proc.stderr
    if ok:
        assert proc.returncode == 0, out[-4000:]
    return proc, out


def _state(path):
    return torch.load(path, map_location='cpu')


@pytest.fixture(scope='module')
def full_run(synthetic_rooms_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('full')
    _, out = _train(work, synthetic_rooms_root)
    return work, out


def test_three_phases_write_matrix_report_and_checkpoints(full_run):
    work, out = full_run
    for name in ('phase_1_semantic.pth', 'phase_2_depth.pth',
                 'phase_3_normal.pth'):
        assert osp.isfile(work / name), name
    report = json.load(open(work / 'lifelong' / 'lifelong_report.json'))
    assert report['tasks'] == ['semantic', 'depth', 'normal']
    assert report['phase_iters'] == [3, 3, 3]  # the schedule it ran
    matrix = report['matrix']
    assert len(matrix) == 3
    assert matrix[0][1:] == [None, None] and matrix[1][2] is None
    assert all(v is not None for v in matrix[2])
    assert set(report['forgetting']) == {'semantic', 'depth'}
    assert osp.isfile(work / 'lifelong' / 'lifelong_task_matrix.png')
    assert 'distilling [\'semantic\', \'depth\']' in out
    # phase 3 logs the new task and both distillation terms, and no
    # stale loss of an earlier phase
    last = [ln for ln in out.splitlines() if 'Iter(train) [9/9]' in ln][0]
    assert 'normal.loss_normal' in last
    assert 'semantic.loss_distill' in last and 'depth.loss_distill' in last
    assert 'semantic.loss_ce' not in last and 'depth.loss_depth' not in last
    ckpt = _state(work / 'phase_3_normal.pth')
    assert ckpt['meta']['epoch'] == 3 and ckpt['meta']['iter'] == 9
    assert ckpt['lifelong']['matrix'] == matrix


@pytest.mark.parametrize('kill_at,ckpt,mid_phase', [(5, 4, True),
                                                    (3, 3, False)])
def test_resume_after_a_kill_equals_uninterrupted(full_run,
                                                  synthetic_rooms_root,
                                                  tmp_path, kill_at, ckpt,
                                                  mid_phase):
    """Killed in the middle of phase 2 (after iteration 5; last checkpoint
    iter_4 with its teacher), or after phase 1's last iteration but before
    its evaluation (checkpoint iter_3): the resumed run records every phase
    and ends with the uninterrupted run's weights and task matrix."""
    full, _ = full_run
    work = tmp_path / 'crash'
    env = {'PYTHONPATH': HELPERS + os.pathsep + REPO}
    crashing = tmp_path / 'crashing.py'
    crashing.write_text(
        f"_base_ = ['{TINY}']\n"
        "custom_imports = dict(imports=['had_mm', 'crash_hook'])\n"
        f"custom_hooks = [dict(type='KillAtIterHook', at={kill_at})]\n"
        f"default_hooks = dict(checkpoint=dict(interval={ckpt}))\n")
    proc, _ = _train(
        work, synthetic_rooms_root, config=str(crashing), env=env, ok=False)
    assert proc.returncode != 0
    assert osp.isfile(work / f'iter_{ckpt}.pth')
    assert not osp.isfile(work / 'phase_2_depth.pth')
    assert osp.isfile(work / 'phase_1_semantic.pth') == mid_phase
    state = _state(work / f'iter_{ckpt}.pth')['lifelong']
    assert ('teacher_state_dict' in state) == mid_phase
    _, out = _train(work, synthetic_rooms_root, '--resume')
    if mid_phase:
        assert f'resumed at iteration {ckpt}' in out
    ref = _state(full / 'phase_3_normal.pth')
    res = _state(work / 'phase_3_normal.pth')
    assert osp.isfile(work / 'phase_1_semantic.pth')
    assert res['lifelong']['matrix'] == ref['lifelong']['matrix']
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(res['state_dict'][key], value, msg=key)


def test_resume_from_another_task_sequence_is_refused(full_run,
                                                      synthetic_rooms_root,
                                                      tmp_path):
    full, _ = full_run
    work = tmp_path / 'other'
    work.mkdir()
    shutil.copy(full / 'iter_4.pth', work / 'iter_4.pth')
    (work / 'last_checkpoint').write_text(str(work / 'iter_4.pth'))
    proc, out = _train(
        work,
        synthetic_rooms_root,
        'train_cfg.phases.0.task=depth',
        'train_cfg.phases.1.task=semantic',
        '--resume',
        ok=False)
    assert proc.returncode != 0
    assert 'another task sequence' in out and 'Traceback' not in out


@pytest.mark.parametrize('opts,needle', [
    (['train_cfg.phases.2.task=saliency'], 'have no head'),
    (['train_cfg.phases.2.task=edges'], 'valid tasks are'),
    (['train_cfg.phases.1.max_iters=0', 'train_cfg.phases.1.max_epochs=1'
      ], 'exactly one of max_iters or max_epochs'),
])
def test_bad_phases_fail_before_training(synthetic_rooms_root, tmp_path, opts,
                                         needle):
    proc, out = _train(tmp_path / 'bad', synthetic_rooms_root, *opts, ok=False)
    assert proc.returncode != 0 and needle in out, out[-2000:]
    assert 'Traceback' not in out and 'Iter(train)' not in out


def test_empty_phase_chunk(tmp_path):
    from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
    root = str(tmp_path / 'few')
    # 2 train images cannot fill 3 phases: chunk 1 is empty
    generate_synthetic_rooms(root, num=3, size=(24, 32), seed=0)
    proc, out = _train(tmp_path / 'w', root, ok=False)
    assert proc.returncode != 0
    assert 'phase 1 (semantic) has no training images' in out, out[-2000:]
    assert 'Traceback' not in out


def test_test_tool_writes_per_task_panels(full_run, synthetic_rooms_root,
                                          tmp_path):
    """--show-dir draws every test image (mmseg's hook drew every 50th
    batch: nothing on a small set) without a --cfg-options override."""
    full, _ = full_run
    proc = run_tool([
        sys.executable, 'tools/test.py', TINY,
        str(full / 'phase_3_normal.pth'), '--work-dir',
        str(tmp_path), '--show-dir', 'panels', '--cfg-options',
        f'test_dataloader.dataset.data_root={synthetic_rooms_root}',
        'visualizer.type=MultiTaskLocalVisualizer'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert 'normal/mean' in out and 'depth/abs_err' in out
    panels = sorted(
        (tmp_path / 'panels' / 'vis_data' / 'vis_image').glob('*.png'))
    assert len(panels) == 8  # every test image
    from PIL import Image
    w, h = Image.open(panels[0]).size
    # image + 3 task panels, labels above predictions, each named and
    # with its key: larger than the bare 4 x 40 by 2 x 32 grid
    assert w > 4 * 40 and h > 2 * 32


def _copy_run(src, dst, names):
    dst.mkdir()
    for i, name in enumerate(names):
        shutil.copy(src / name, dst / name)
        os.utime(dst / name, (1e9 + i, 1e9 + i))  # newest last
    (dst / 'last_checkpoint').write_text(str(dst / names[-1]))


def _error_line(proc, out):
    assert proc.returncode == 2, out[-3000:]
    assert 'Traceback' not in out and 'Iter(train)' not in out, out[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def test_resume_of_a_complete_run_says_so(full_run, synthetic_rooms_root,
                                          tmp_path):
    full, _ = full_run
    work = tmp_path / 'done'
    _copy_run(full, work, ['phase_3_normal.pth'])
    proc, out = _train(work, synthetic_rooms_root, '--resume')
    assert 'is complete: all 3 phases were trained and evaluated' in out
    assert 'nothing to resume' in out and 'Iter(train)' not in out
    # a shorter schedule: still complete, and what changed is named
    proc, out = _train(
        work,
        synthetic_rooms_root,
        'train_cfg.phases.1.max_iters=2',
        '--resume',
        ok=False)
    line = _error_line(proc, out)
    assert 'is complete (3 phases, 9 iterations)' in line
    assert 'phase 2 (depth): 3 -> 2 iterations' in line


def test_resume_after_changing_a_started_phase_is_refused(
        full_run, synthetic_rooms_root, tmp_path):
    full, _ = full_run
    work = tmp_path / 'mid'
    _copy_run(full, work, ['iter_4.pth'])  # in phase 2 of 3 x 3 iterations
    proc, out = _train(
        work,
        synthetic_rooms_root,
        'train_cfg.phases.0.max_iters=2',
        '--resume',
        ok=False)
    line = _error_line(proc, out)
    assert 'phase 1 (semantic): 3 -> 2 iterations' in line
    assert 'at iteration 4' in line and 'check_matrix' not in out
    # a phase that had not started may change
    proc, out = _train(work, synthetic_rooms_root,
                       'train_cfg.phases.2.max_iters=2', '--resume')
    assert 'phases that had not started: phase 3 (normal): 3 -> 2' in out
    assert _state(work / 'phase_3_normal.pth')['meta']['iter'] == 8


def test_resume_falls_back_to_the_newest_intact_checkpoint(
        full_run, synthetic_rooms_root, tmp_path):
    """A save killed half-way leaves a truncated latest checkpoint: resume
    from the one before, say so, and end as the uninterrupted run."""
    full, _ = full_run
    work = tmp_path / 'torn'
    _copy_run(full, work, ['iter_2.pth', 'iter_4.pth'])
    data = (work / 'iter_4.pth').read_bytes()
    (work / 'iter_4.pth').write_bytes(data[:len(data) // 3])
    _, out = _train(work, synthetic_rooms_root, '--resume')
    assert f'checkpoint "{work / "iter_4.pth"}" cannot be read' in out
    assert f'resumed from "{work / "iter_2.pth"}", the newest intact' in out
    ref = _state(full / 'phase_3_normal.pth')
    res = _state(work / 'phase_3_normal.pth')
    assert res['lifelong']['matrix'] == ref['lifelong']['matrix']
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(res['state_dict'][key], value, msg=key)


def test_show_interval_draws_every_kth_image(full_run, synthetic_rooms_root,
                                             tmp_path):
    full, _ = full_run
    proc = run_tool([
        sys.executable, 'tools/test.py', TINY,
        str(full / 'phase_3_normal.pth'), '--work-dir',
        str(tmp_path), '--show-dir', 'panels', '--show-interval', '3',
        '--cfg-options',
        f'test_dataloader.dataset.data_root={synthetic_rooms_root}'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    panels = sorted(
        p.name
        for p in (tmp_path / 'panels' / 'vis_data' / 'vis_image').glob('*'))
    # images 0, 3 and 6 of the 8 (two batches of 4: across batches)
    assert len(panels) == 3, panels


def test_early_stopping_hook_ends_the_run_between_phases(
        synthetic_rooms_root, tmp_path):
    """mmengine's EarlyStoppingHook sets ``stop_training`` after phase 1's
    evaluation (its threshold is met at once): phase 2 and 3 never train,
    and phase 1 stays recorded, reported and saved."""
    cfg = tmp_path / 'early_stop.py'
    cfg.write_text(f"_base_ = ['{TINY}']\n"
                   "custom_hooks = [dict(type='EarlyStoppingHook', "
                   "monitor='semantic/mIoU', rule='greater', "
                   "stopping_threshold=-1.0)]\n")
    work = tmp_path / 'w'
    _, out = _train(work, synthetic_rooms_root, config=str(cfg))
    assert 'Stopping threshold reached' in out
    assert 'stop_training was set after phase 1: the last 2 phase(s) are ' \
        'not trained' in out
    assert 'Iter(train) [4/9]' not in out
    assert osp.isfile(work / 'phase_1_semantic.pth')
    assert not osp.exists(work / 'phase_2_depth.pth')
    report = json.load(open(work / 'lifelong' / 'lifelong_report.json'))
    assert len(report['matrix']) == 1
