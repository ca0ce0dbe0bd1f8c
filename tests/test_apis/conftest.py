import sys

import pytest
from apis_helpers import TINY_LIFELONG, data_root_options
from tool_runner import run_tool


@pytest.fixture(scope='session')
def lifelong_run(synthetic_rooms_root, tmp_path_factory) -> str:
    """The work dir of a tiny 3-phase lifelong run (semantic -> depth ->
    normal, 3 iterations each), trained once with tools/train.py."""
    work = str(tmp_path_factory.mktemp('lifelong_run'))
    proc = run_tool([
        sys.executable, 'tools/train.py', TINY_LIFELONG, '--work-dir', work,
        '--cfg-options', *data_root_options(synthetic_rooms_root)
    ])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return work
