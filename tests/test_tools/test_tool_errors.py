"""Bad input to the MM-style tools: one clear line, non-zero exit."""
import os.path as osp
import socket
import sys

import pytest
from tool_runner import REPO, TINY_SEG, run_tool


def _assert_one_clear_error(proc, *needles):
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert 'Traceback' not in out, out[-2000:]
    for needle in needles:
        assert needle in out, out[-2000:]


def test_missing_config():
    proc = run_tool([sys.executable, 'tools/train.py', 'configs/nope.py'])
    _assert_one_clear_error(proc, 'configs/nope.py', 'does not exist')


def test_unknown_type_in_config(tmp_path):
    cfg = tmp_path / 'typo.py'
    cfg.write_text(f"_base_ = ['{TINY_SEG}']\n"
                   "model = dict(decode_head=dict(type='FCNHaed'))\n")
    proc = run_tool([sys.executable, 'tools/train.py', str(cfg)])
    _assert_one_clear_error(proc, 'FCNHaed', 'FCNHead')


def test_launcher_pytorch_without_torchrun():
    env = {k: '' for k in ()}
    proc = run_tool(
        [sys.executable, 'tools/train.py', TINY_SEG, '--launcher', 'pytorch'],
        env=env)
    _assert_one_clear_error(proc, 'torchrun', 'tools/dist_train.sh')


@pytest.mark.parametrize('gpus', ['0', '-1', 'two', '1.5'])
def test_dist_train_rejects_bad_gpus(gpus):
    proc = run_tool(['bash', 'tools/dist_train.sh', TINY_SEG, gpus])
    _assert_one_clear_error(proc, 'positive integer', repr(gpus)[1:-1])


def test_missing_checkpoint():
    proc = run_tool(
        [sys.executable, 'tools/test.py', TINY_SEG, 'work_dirs/none.pth'])
    _assert_one_clear_error(proc, 'work_dirs/none.pth', 'does not exist')
    proc = run_tool([
        sys.executable, 'tools/train.py', TINY_SEG, '--cfg-options',
        'load_from=work_dirs/none.pth'
    ])
    _assert_one_clear_error(proc, 'work_dirs/none.pth', 'does not exist')
    proc = run_tool(
        ['bash', 'tools/dist_test.sh', TINY_SEG, 'work_dirs/none.pth', '2'])
    _assert_one_clear_error(proc, 'work_dirs/none.pth', 'does not exist')


def _no_torch_python(tmp_path) -> str:
    """An interpreter that cannot import torch: this one without its site
    packages (as a python outside the project's environment)."""
    path = tmp_path / 'python'
    path.write_text(f'#!/bin/sh\nexec {sys.executable} -I -S "$@"\n')
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh'])
def test_dist_launch_without_torch_says_which_python(tmp_path, script):
    args = [TINY_SEG, TINY_SEG, '1'] if script == 'dist_test.sh' else \
        [TINY_SEG, '1']
    proc = run_tool(['bash', f'tools/{script}', *args],
                    env={'PYTHON': _no_torch_python(tmp_path)})
    _assert_one_clear_error(proc, 'cannot import torch', 'set PYTHON',
                            '.venv/bin/python')


@pytest.mark.skipif(
    not osp.isfile(osp.join(REPO, '.venv', 'bin', 'python')),
    reason='needs the project .venv')
def test_dist_launch_defaults_to_the_project_venv():
    # no PYTHON: the .venv's interpreter (with torch) runs the checks
    proc = run_tool(['bash', 'tools/dist_train.sh', TINY_SEG, '999999999999'],
                    env={'PYTHON': ''})
    _assert_one_clear_error(proc, 'GPUS=999999999999', 'pass at most')


def test_dist_launch_refuses_more_processes_than_the_machine():
    proc = run_tool(['bash', 'tools/dist_train.sh', TINY_SEG, '999999999999'])
    _assert_one_clear_error(proc, 'GPUS=999999999999', 'pass at most')
    assert 'torch.distributed' not in proc.stdout + proc.stderr


def test_dist_launch_port_in_use_says_set_port():
    with socket.socket() as sock:
        sock.bind(('', 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        proc = run_tool(['bash', 'tools/dist_train.sh', TINY_SEG, '1'],
                        env={'PORT': str(port)})
    _assert_one_clear_error(proc, f'port {port} is in use', 'set PORT')


def test_unwritable_work_dir_is_one_line(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    work_dir = blocker / 'work'
    for tool in (['tools/train.py',
                  TINY_SEG], ['tools/test.py', TINY_SEG, TINY_SEG]):
        proc = run_tool([sys.executable, *tool, '--work-dir', str(work_dir)])
        _assert_one_clear_error(proc, f'work dir "{work_dir}" cannot be '
                                'written', '--work-dir')


def test_errors_are_one_stderr_line_before_any_environment_dump(tmp_path):
    """An error of the train loop (raised once the runner is built) reads
    like a tool's and comes before mmengine's environment dump."""
    tiny = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')
    proc = run_tool([
        sys.executable, 'tools/train.py', tiny, '--work-dir',
        str(tmp_path), '--cfg-options', 'train_cfg.phases.2.task=saliency'
    ])
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1].startswith(
        "error: phase task(s) ['saliency'] have no head")
    for stream in (proc.stdout, proc.stderr):
        assert 'mmengine - ERROR' not in stream
        assert 'System environment' not in stream
    log = open(next(tmp_path.glob('*/*.log'))).read()
    assert 'error: phase task(s)' in log  # the log file has it too
