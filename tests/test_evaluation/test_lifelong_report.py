import csv
import json
import math

import pytest

from had_mm.evaluation import (LifelongReport, build_report, compute_bwt,
                               compute_delta_m, compute_forgetting,
                               format_summary, format_task_matrix, load_report,
                               write_report)

TASKS = ['depth', 'semantic', 'normal']
DIRS = [-1, +1, -1]
# depth improves after phase 2 (0.50 -> 0.40) then degrades to 0.45.
R = [
    [0.50, None, None],
    [0.40, 40.0, None],
    [0.45, 38.0, 30.0],
]
REF = {'depth': 0.5, 'semantic': 40.0, 'normal': 25.0}


def test_forgetting_uses_best_over_earlier_phases_and_direction():
    f = compute_forgetting(R, DIRS)
    # depth: best = min(0.50, 0.40) = 0.40 -> -1 * (0.40 - 0.45) / 0.40
    # semantic: best = 40 -> (40 - 38) / 40
    assert f == pytest.approx([12.5, 5.0])


def test_bwt_against_just_learnt_values():
    # depth: -1 * (0.45 - 0.50) / 0.50 = +10; semantic: (38 - 40) / 40 = -5
    assert compute_bwt(R, DIRS) == pytest.approx(2.5)
    assert compute_bwt(R[:1], DIRS) is None


def test_delta_m():
    # depth +0.1, semantic -0.05, normal -1 * (30 - 25) / 25 = -0.2
    assert compute_delta_m([0.45, 38.0, 30.0], [0.5, 40.0, 25.0],
                           DIRS) == pytest.approx(100 * -0.15 / 3)
    with pytest.raises(ValueError):
        compute_delta_m([1.0], [1.0, 2.0], [1, 1])


def test_build_report_full_and_partial():
    report = build_report(TASKS, R, DIRS, reference=REF)
    assert report.forgetting == pytest.approx({'depth': 12.5, 'semantic': 5.0})
    assert report.avg_forgetting == pytest.approx(8.75)
    assert report.bwt == pytest.approx(2.5)
    assert report.delta_m == pytest.approx(-5.0)
    assert report.metric_names == ['abs_err', 'mIoU', 'mean']

    # after phase 2: depth went 0.50 -> 0.40 (negative forgetting)
    partial = build_report(TASKS, R[:2], dict(zip(TASKS, DIRS)), REF)
    assert partial.forgetting == pytest.approx({'depth': -20.0})
    assert partial.bwt == pytest.approx(20.0)  # improved: positive BWT
    # (100 / 2) * (0.2 + 0)
    assert partial.delta_m == pytest.approx(10.0)

    first = build_report(TASKS, R[:1])  # directions from PRIMARY_METRICS
    assert first.directions == DIRS
    assert first.forgetting == {}
    assert first.avg_forgetting is None and first.bwt is None
    assert first.delta_m is None


def test_invalid_inputs():
    with pytest.raises(ValueError, match='not seen'):
        build_report(TASKS, [[0.5, 1.0, None]], DIRS)
    with pytest.raises(ValueError, match='missing'):
        build_report(TASKS, [[0.5], [None, 40.0]], DIRS)
    with pytest.raises(ValueError, match='one phase per task'):
        build_report(TASKS[:1], R[:2], DIRS[:1])
    with pytest.raises(ValueError, match='reference misses'):
        build_report(TASKS, R, DIRS, reference={'depth': 0.5})
    with pytest.raises(ValueError, match=r'\+1 or -1'):
        build_report(TASKS, R, [1, 0, 1])


def test_zero_denominator_gives_nan():
    f = compute_forgetting([[0.0, None], [1.0, 2.0]], [1, 1])
    assert math.isnan(f[0])


def test_format_task_matrix():
    text = format_task_matrix(TASKS, R, DIRS)
    lines = text.splitlines()
    assert len(lines) == 2 + 3
    assert 'depth (-)' in lines[0] and 'semantic (+)' in lines[0]
    assert lines[2].split('|')[1].strip() == '0.5000'
    assert lines[2].split('|')[2].strip() == '-'
    assert lines[4].split('|')[3].strip() == '30.00'
    summary = format_summary(build_report(TASKS, R, DIRS, reference=REF))
    assert 'BWT % 2.50' in summary and 'Delta_m % -5.00' in summary


def test_write_report_files_and_json_round_trip(tmp_path):
    report = build_report(
        TASKS,
        R,
        DIRS,
        reference=REF,
        final_metrics={
            'depth/abs_err': 0.45,
            'semantic/mIoU': 38.0
        },
        phase_iters=(5, 5, 7))
    paths = write_report(report, str(tmp_path / 'out'), prefix='run')
    assert set(paths) == {'json', 'csv', 'png'}
    for path in paths.values():
        assert (tmp_path / 'out').joinpath(path).exists()

    with open(paths['json']) as f:
        data = json.load(f)
    assert data['num_phases'] == 3
    assert data['phase_iters'] == [5, 5, 7]
    assert data['matrix'][0] == [0.5, None, None]
    assert LifelongReport.from_dict(data) == report
    assert load_report(paths['json']) == report

    with open(paths['csv']) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['phase'] + TASKS
    assert rows[1] == ['1', '0.5', '', '']
    assert [float(v) for v in rows[3][1:]] == [0.45, 38.0, 30.0]

    with open(paths['png'], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_write_partial_report_with_nan(tmp_path):
    report = build_report(['a', 'b'], [[0.0, None], [1.0, 2.0]], [1, 1])
    paths = write_report(report, str(tmp_path))
    with open(paths['json']) as f:
        data = json.load(f)  # valid JSON: NaN written as null
    assert data['forgetting'] == {'a': None}
    assert data['avg_forgetting'] is None
