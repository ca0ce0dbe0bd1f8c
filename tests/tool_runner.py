"""Helpers for tests that run the command-line tools as a user would."""
import glob
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import warnings

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_SEG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_seg.py')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# How a child killed in native code shows: SIGABRT/SIGSEGV as its return
# code, or torchrun's report of a rank that died of one. Not SIGKILL, which
# the tests' crash hooks send on purpose.
NATIVE_CRASH_CODES = (-signal.SIGABRT, -signal.SIGSEGV)
NATIVE_CRASH_MARKS = ('Signal 6 (SIGABRT)', 'Signal 11 (SIGSEGV)')


def native_crash(proc: subprocess.CompletedProcess) -> bool:
    """Whether a run died of SIGABRT/SIGSEGV rather than exiting."""
    return proc.returncode in NATIVE_CRASH_CODES or any(
        mark in proc.stderr for mark in NATIVE_CRASH_MARKS)


def latest_run_logs(work_dir, pattern: str = '*.log') -> list:
    """The log files of the latest run in ``work_dir`` (mmengine writes one
    timestamped folder per run; a retried run leaves two)."""
    runs = sorted({
        osp.dirname(p)
        for p in glob.glob(osp.join(str(work_dir), '*', pattern))
    })
    return sorted(glob.glob(osp.join(runs[-1], pattern))) if runs else []


def run_tool(args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run a command from the repo root with this interpreter first on PATH.

    A run killed by a signal in native code (seen rarely on CI: glibc's
    "corrupted size vs. prev_size" in torch's CPU kernels) is run once
    more, with a warning; an exit with a status, i.e. every error of
    had_mm's own, is returned as it is.
    """
    full_env = dict(os.environ)
    full_env['PYTHON'] = sys.executable
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env.update(env or {})
    for attempt in range(2):
        proc = subprocess.run(
            args,
            cwd=REPO,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout)
        if attempt == 1 or not native_crash(proc):
            return proc
        warnings.warn(f'{" ".join(map(str, args[:3]))}: killed by a signal '
                      f'(return code {proc.returncode}); run again once. '
                      f'stderr tail: {proc.stderr[-300:]}')
