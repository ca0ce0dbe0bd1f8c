"""The test helper that runs tools: a native crash is retried once, an
ordinary failure is not."""
import sys

import pytest
from tool_runner import run_tool


def test_a_run_killed_by_a_signal_is_run_once_more(tmp_path):
    counter = tmp_path / 'runs'
    code = (f"import os; f = open({str(counter)!r}, 'a'); f.write('x'); "
            'f.close(); os.abort()')
    with pytest.warns(UserWarning, match='killed by a signal'):
        proc = run_tool([sys.executable, '-c', code])
    assert proc.returncode == -6
    assert counter.read_text() == 'xx'


def test_an_error_exit_is_returned_at_once(tmp_path):
    counter = tmp_path / 'runs'
    code = (f"f = open({str(counter)!r}, 'a'); f.write('x'); f.close(); "
            "raise SystemExit('error: bad config')")
    proc = run_tool([sys.executable, '-c', code])
    assert proc.returncode == 1
    assert 'bad config' in proc.stderr
    assert counter.read_text() == 'x'
