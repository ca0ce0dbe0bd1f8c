"""Helpers for tests that run the command-line tools as a user would."""
import os
import os.path as osp
import socket
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_SEG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_seg.py')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_tool(args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run a command from the repo root with this interpreter first on PATH."""
    full_env = dict(os.environ)
    full_env['PYTHON'] = sys.executable
    full_env['PYTHONPATH'] = REPO + os.pathsep + full_env.get('PYTHONPATH', '')
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env.update(env or {})
    return subprocess.run(
        args,
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)
