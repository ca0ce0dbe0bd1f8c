"""tools/analysis/lifelong_summary.py: one run, and runs side by side."""
import importlib.util
import os.path as osp

import pytest
from tool_runner import REPO

from had_mm.evaluation.lifelong_report import build_report, write_report

SPEC = importlib.util.spec_from_file_location(
    'lifelong_summary',
    osp.join(REPO, 'tools', 'analysis', 'lifelong_summary.py'))
lifelong_summary = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(lifelong_summary)
TASKS = ['semantic', 'depth']


def _run(tmp_path, name, matrix, tasks=TASKS):
    work = tmp_path / name
    write_report(build_report(tasks, matrix), str(work / 'lifelong'))
    return str(work)


def test_one_run_and_two_side_by_side(tmp_path, capsys):
    # semantic drops 20 -> 18 (10 % forgotten) with HAD, 20 -> 12 (40 %)
    had = _run(tmp_path, 'had', [[20.0, None], [18.0, 0.6]])
    ft = _run(tmp_path, 'finetune', [[20.0, None], [12.0, 0.5]])
    lifelong_summary.main([had])
    out = capsys.readouterr().out
    assert 'Lifelong task matrix (row i' in out and 'side by side' not in out
    lifelong_summary.main([had, ft, '--names', 'HAD', 'fine-tune'])
    out = capsys.readouterr().out
    assert 'Lifelong task matrix of HAD' in out
    assert 'Lifelong task matrix of fine-tune' in out
    table = out.split('side by side:')[1]
    assert 'HAD       | 18' in table and 'fine-tune | 12' in table
    assert 'Lowest average forgetting in these runs: HAD, 10.00 % against ' \
        '40.00 % for fine-tune. One run each is one seed: no verdict.' \
        in table


def test_errors(tmp_path, capsys):
    had = _run(tmp_path, 'had', [[20.0, None], [18.0, 0.6]])
    other = _run(
        tmp_path,
        'other', [[0.6, None], [0.7, 20.0]],
        tasks=['depth', 'semantic'])
    with pytest.raises(SystemExit, match='other task sequences'):
        lifelong_summary.main([had, other])
    with pytest.raises(SystemExit, match='no lifelong report'):
        lifelong_summary.main([str(tmp_path / 'none')])
    with pytest.raises(SystemExit):
        lifelong_summary.main([had, had, '--names', 'one'])
    assert 'one name per work dir' in capsys.readouterr().err
