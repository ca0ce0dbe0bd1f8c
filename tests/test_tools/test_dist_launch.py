"""tools/dist_train.sh as the user types it: one line, once, exit 2, on
bad input; no silent CPU training; a kill reaches the ranks."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
from tool_runner import REPO, TINY_SEG, free_port, run_tool

TINY_LIFELONG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


def _one_error_line(proc) -> str:
    """The launch failed with status 2 and a single ``error:`` line."""
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    for noise in ('Traceback', 'ChildFailedError', 'torch.distributed'):
        assert noise not in out, out[-3000:]
    errors = [ln for ln in out.splitlines() if ln.startswith('error:')]
    assert len(errors) == 1, out[-3000:]
    return errors[0]


def test_the_users_command_names_what_is_missing():
    """`tools/dist_train.sh configs/had/nyuv2_4tasks.py 8` on a machine
    without 8 GPUs (or without NYUv2): one line with the remedy."""
    proc = run_tool(
        ['tools/dist_train.sh', 'configs/had/nyuv2_4tasks.py', '8'],
        env={'PORT': str(free_port())})
    line = _one_error_line(proc)
    if 'GPU' in line:
        assert 'GPUS=8' in line and 'machine with 8 GPUs' in line
    else:
        assert 'data/nyuv2' in line


def test_missing_nyuv2_data_is_one_line_before_any_rank_starts(tmp_path):
    missing = tmp_path / 'nyuv2'
    proc = run_tool([
        'bash', 'tools/dist_train.sh', 'configs/had/nyuv2_4tasks.py', '1',
        '--cfg-options', f'train_dataloader.dataset.data_root={missing}',
        f'val_dataloader.dataset.data_root={missing}'
    ],
                    env={'PORT': str(free_port())})
    line = _one_error_line(proc)
    assert str(missing) in line and 'does not exist' in line


def test_a_rank_error_is_printed_once_without_torchrun_trace(
        synthetic_rooms_root, tmp_path):
    """An error that only the ranks meet (the train loop's phases): rank 0
    prints it, torchrun adds nothing, and the exit status is 2."""
    proc = run_tool([
        'bash', 'tools/dist_train.sh', TINY_LIFELONG, '2', '--work-dir',
        str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={synthetic_rooms_root}',
        f'val_dataloader.dataset.data_root={synthetic_rooms_root}',
        'train_cfg.phases.2.task=saliency'
    ],
                    env={'PORT': str(free_port())})
    assert "phase task(s) ['saliency'] have no head" in _one_error_line(proc)


def _cmdline(pid: int) -> str:
    """The command line of ``pid`` ('' once it has gone)."""
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return f.read().decode(errors='replace')
    except OSError:
        return ''


def _processes_with(marker: str) -> list:
    """PIDs whose command line contains ``marker``."""
    return [
        int(pid) for pid in os.listdir('/proc')
        if pid.isdigit() and marker in _cmdline(int(pid))
    ]


def _parent(pid: int) -> int:
    """The parent PID of ``pid`` (0 once it has gone)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            # the command name in field 2 may hold spaces and parentheses
            return int(f.read().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _training(work_dir) -> bool:
    """Whether the run in ``work_dir`` has logged a training iteration."""
    for log in work_dir.glob('*/*.log'):
        if 'Iter(train)' in log.read_text(errors='replace'):
            return True
    return False


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='/proc')
def test_killing_the_launcher_stops_its_ranks(synthetic_rooms_root, tmp_path):
    """Even SIGKILL, which torchrun cannot forward: each rank asked the
    kernel for a SIGTERM when its parent dies."""
    work_dir = tmp_path / 'killed_run'
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env['PORT'] = str(free_port())
    launcher = subprocess.Popen([
        'bash', 'tools/dist_train.sh', TINY_SEG, '2', '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_iters=100000',
        f'train_dataloader.dataset.data_root={synthetic_rooms_root}',
        f'val_dataloader.dataset.data_root={synthetic_rooms_root}',
        f'test_dataloader.dataset.data_root={synthetic_rooms_root}'
    ],
                                cwd=REPO,
                                env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    marker = str(work_dir)
    try:
        deadline = time.time() + 300
        while not _training(work_dir):  # the ranks are past their set-up
            assert launcher.poll() is None, 'the run ended by itself'
            assert time.time() < deadline, 'the ranks never started'
            time.sleep(0.5)
        # the launcher execs torchrun, which runs 2 ranks; a short-lived fork
        # (a subprocess before its exec) carries its parent's command line,
        # so ranks are counted as torchrun's children that are not torchrun
        pids = _processes_with(marker)
        assert launcher.pid in pids
        ranks = [
            pid for pid in pids if _parent(pid) == launcher.pid
            and 'torchrun.py' not in _cmdline(pid)
        ]
        assert len(ranks) == 2, (pids, ranks)
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(30)
        deadline = time.time() + 60
        while _processes_with(marker) and time.time() < deadline:
            time.sleep(0.5)
        assert _processes_with(marker) == []
    finally:
        for pid in _processes_with(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it ended meanwhile
                pass
