"""The test helper that runs tools: a native crash is retried once, an
ordinary failure is not."""
import os.path as osp
import sys

import pytest
from tool_runner import latest_run_logs, run_tool


def _counted_run(tmp_path, ending: str):
    """Run a child that counts its starts in a file, then does ``ending``.

    Returns:
        tuple: The completed process and how many times the child started.
    """
    counter = tmp_path / 'runs'
    code = (f"import os, signal; f = open({str(counter)!r}, 'a'); "
            f"f.write('x'); f.close(); {ending}")
    proc = run_tool([sys.executable, '-c', code])
    return proc, len(counter.read_text())


def test_a_run_killed_by_a_signal_is_run_once_more(tmp_path):
    with pytest.warns(UserWarning, match='killed by a signal'):
        proc, starts = _counted_run(tmp_path, 'os.abort()')
    assert proc.returncode == -6
    assert starts == 2


def test_an_error_exit_is_returned_at_once(tmp_path):
    proc, starts = _counted_run(tmp_path,
                                "raise SystemExit('error: bad config')")
    assert proc.returncode == 1
    assert 'bad config' in proc.stderr
    assert starts == 1


def test_a_run_killed_on_purpose_is_not_rerun(tmp_path):
    """SIGKILL (the crash hooks' signal) is not a native crash."""
    proc, starts = _counted_run(tmp_path,
                                'os.kill(os.getpid(), signal.SIGKILL)')
    assert proc.returncode == -9
    assert starts == 1


def test_latest_run_logs_reads_the_last_timestamped_run(tmp_path):
    for stamp, names in (('20261202_100000', ['a.log']),
                         ('20261202_110000', ['b.log', 'b_rank1.log'])):
        (tmp_path / stamp).mkdir()
        for name in names:
            (tmp_path / stamp / name).write_text('')
    assert [osp.basename(p) for p in latest_run_logs(tmp_path)] == \
        ['b.log', 'b_rank1.log']
    assert latest_run_logs(tmp_path / 'none') == []
