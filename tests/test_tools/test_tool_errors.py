"""Bad input to the MM-style tools: one clear line, non-zero exit."""
import sys

import pytest
from tool_runner import TINY_SEG, run_tool


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
