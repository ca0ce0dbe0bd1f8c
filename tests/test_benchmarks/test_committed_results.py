"""The committed results files are what their drivers write today: a fresh
clone that re-tabulates them (``--report-only``) stays clean."""
import os.path as osp
import shutil
import sys

import pytest
from tool_runner import REPO, run_tool

RESULTS = osp.join(REPO, 'benchmarks', 'results')


@pytest.mark.parametrize('driver,files', [
    ('lifelong_methods.py', ('lifelong_synthetic.csv', 'lifelong_synthetic.md',
                             'lifelong_synthetic_single.csv')),
    ('heteroakd_synthetic.py',
     ('heteroakd_synthetic.csv', 'heteroakd_synthetic.md')),
])
def test_report_only_rewrites_the_committed_tables_byte_for_byte(
        tmp_path, driver, files):
    results = tmp_path / 'results'
    shutil.copytree(RESULTS, results)  # the archived runs the tables read
    for name in files:
        (results / name).unlink()
    proc = run_tool([
        sys.executable,
        osp.join('benchmarks', driver), '--report-only', '--results-dir',
        str(results), '--work-dir',
        str(tmp_path / 'work')
    ])
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in files:
        with open(osp.join(RESULTS, name)) as f:
            committed = f.read()
        assert (results / name).read_text() == committed, (
            f'benchmarks/results/{name} is stale: re-tabulate it with '
            f'python benchmarks/{driver} --report-only')
