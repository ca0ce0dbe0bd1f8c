"""The procedural-shapes benchmark driver: the pairing, its tables, and
a --quick grid end to end (outputs, reuse of finished runs, resume)."""
import csv
import json
import os
import os.path as osp
import shutil

import pytest

from had_mm.evaluation.statistics import fmt_ci, mean_ci
from projects.kdp.benchmarks import procedural as bench


def _row(learner, method, seed, acc, fgt=0.0, teacher=None):
    return dict(
        learner=learner,
        method=method,
        seed=seed,
        final_avg_acc=acc,
        forgetting=fgt,
        teacher_final_avg_acc=teacher)


def test_paired_differences_pair_by_learner_and_seed():
    rows = [
        _row('coda', 'kdp', 1, 50.0),
        _row('coda', 'kd', 0, 40.0),
        _row('l2p', 'kdp', 0, 30.0),
        _row('coda', 'kdp', 0, 45.0),
        _row('l2p', 'kd', 0, 31.0),
        _row('coda', 'kd', 2, 60.0),  # no KDP run for seed 2
        _row('l2p', 'kd', 1, 20.0),
        _row('l2p', 'kdp', 1, 26.0),
        _row('coda', 'kd', 1, 44.0),
    ]
    pooled = bench.paired_differences(rows, 'kdp', 'kd', 'final_avg_acc')
    assert pooled == [(('coda', 0), 5.0), (('coda', 1), 6.0),
                      (('l2p', 0), -1.0), (('l2p', 1), 6.0)]
    coda = bench.paired_differences(rows, 'kdp', 'kd', 'final_avg_acc',
                                    ['coda'])
    assert coda == [(('coda', 0), 5.0), (('coda', 1), 6.0)]
    table = bench.paired_table(rows, ['l2p', 'coda'], [('kdp', 'kd')])
    lines = table.splitlines()
    assert len(lines) == 5
    assert lines[2].startswith('| KDP - logit KD | L2P | 2 | 2.50 ± ')
    expected = fmt_ci(*mean_ci([5.0, 6.0, -1.0, 6.0]))
    assert lines[4] == ('| KDP - logit KD | pooled (L2P, CODA-Prompt) | 4 | '
                        f'{expected} | 0.00 ± 0.00 |')


def test_summary_table_and_teacher_check():
    rows = [
        _row('coda', 'alone', 0, 40.0, 10.0),
        _row('coda', 'alone', 1, 50.0, 20.0),
        _row('coda', 'kdp', 1, 60.0, 5.0, 70.0),
        _row('coda', 'kdp', 0, 60.0, 5.0, 80.0),
        _row('coda', 'kd', 0, 55.0, 5.0, 80.0),
        _row('coda', 'kd', 1, 55.0, 5.0, 71.0),
    ]
    lines = bench.summary_table(rows, ['l2p', 'coda'],
                                ['alone', 'kd', 'kdp']).splitlines()
    assert len(lines) == 5
    assert lines[2] == ('| CODA-Prompt | student alone | 2 | 45.00 ± 63.53 | '
                        '15.00 ± 63.53 | - | 0, 1 |')
    assert lines[4] == ('| CODA-Prompt | KDP | 2 | 60.00 ± 0.00 | '
                        '5.00 ± 0.00 | 75.00 ± 63.53 | 0, 1 |')
    assert 'in 1 of 2 (learner, seed) cells' in bench.teacher_check(rows)


def _read_csv(path):
    with open(path) as f:
        lines = f.read().splitlines()
    header = [line for line in lines if line.startswith('#')]
    rows = list(
        csv.DictReader(line for line in lines if not line.startswith('#')))
    return header, rows


def _no_training(*args, **kwargs):
    raise AssertionError('a finished run was trained again')


def test_quick_grid_end_to_end(tmp_path, monkeypatch):
    work, results = tmp_path / 'work', tmp_path / 'results'
    argv = [
        '--quick', '--in-process', '--work-dir',
        str(work), '--results-dir',
        str(results)
    ]
    bench.main(argv)

    # the CSV: the command first, one row per run
    header, rows = _read_csv(results / 'procedural.csv')
    # where it ran (--work-dir, --results-dir) is not in the header
    assert header[0] == ('# command: python projects/kdp/benchmarks/'
                         'procedural.py --quick --in-process')
    assert '8 of 8 runs finished' in header[1]
    with open(results / 'procedural.csv') as f:
        columns = [x for x in f if not x.startswith('#')][0].strip()
    assert columns.split(',') == list(bench.CSV_COLS)
    assert len(rows) == 8
    assert sorted((r['method'], r['seed']) for r in rows) == sorted(
        (m, s) for m in bench.METHODS for s in ('0', '1'))
    for r in rows:
        assert r['learner'] == 'coda'
        assert 0 <= float(r['final_avg_acc']) <= 100
        assert float(r['wall_s']) > 0 and float(r['cpu_s']) > 0
        assert r['pretrained'].startswith('student:')
        assert len(json.loads(r['matrix'])) == 5
        # the teacher's accuracy where distilled only
        assert (r['teacher_final_avg_acc'] == '') == (r['method'] == 'alone')
    # the per-run archive, one JSON per run
    archived = osp.join(
        str(results), 'procedural_runs', 'coda', 'kdp', 'seed1.json')
    with open(archived) as f:
        result = json.load(f)
    assert result['options'] == (
        bench.seed_options(1) + bench.QUICK['options'])
    # the markdown: the command, the CI of the runs, the paired rows
    md = (results / 'procedural.md').read_text()
    assert md.startswith('<!-- command: python projects/kdp/benchmarks/'
                         'procedural.py --quick')
    kdp = [float(r['final_avg_acc']) for r in rows if r['method'] == 'kdp']
    assert (f'| CODA-Prompt | KDP | 2 | {fmt_ci(*mean_ci(kdp))} |' in md)
    by = {(r['method'], r['seed']): float(r['final_avg_acc']) for r in rows}
    diffs = [by['kdp', s] - by['kd', s] for s in ('0', '1')]
    assert (f'| KDP - logit KD | CODA-Prompt | 2 | '
            f'{fmt_ci(*mean_ci(diffs))} |' in md)
    assert '| KDP - student alone | pooled (CODA-Prompt) | 2 |' in md

    # a second invocation trains nothing, also without the work dirs (a
    # fresh clone with the archive), and writes the same rows
    monkeypatch.setattr(bench, 'run_tool', _no_training)
    shutil.rmtree(work)
    bench.main(argv)
    assert _read_csv(results / 'procedural.csv')[1] == rows
    # an archived run made with other options is refused, not reused
    with pytest.raises(SystemExit, match='other --results-dir'):
        bench.main(argv + ['--cfg-options', 'train_cfg.max_iters=3'])


def test_interrupted_run_resumes_or_restarts(tmp_path, monkeypatch):
    args = bench.parse_args(
        ['--quick', '--in-process', '--work-dir',
         str(tmp_path)])
    run = bench.plan_runs(args)[0]
    work_dir = osp.join(args.work_dir, run['name'])
    os.makedirs(work_dir)
    open(osp.join(work_dir, 'last_checkpoint'), 'w').close()
    calls = []
    report = dict(
        num_tasks=2,
        student=dict(
            matrix=[[50.0, None], [40.0, 30.0]],
            average_accuracy=35.0,
            forgetting=5.0))

    def fake_train(args, tool, tool_args, log_path):
        calls.append(tool_args)
        if '--resume' in tool_args:  # a loop that cannot resume
            with open(log_path, 'a') as f:
                f.write('RuntimeError: ContinualDistillLoop cannot resume\n')
            return 1, 0.5
        out = osp.join(work_dir, 'continual')
        os.makedirs(out)
        with open(osp.join(out, 'continual_report.json'), 'w') as f:
            json.dump(report, f)
        return 0, 2.0

    monkeypatch.setattr(bench, 'run_tool', fake_train)
    result = bench.execute(args, run)
    assert [c[-1] == '--resume' for c in calls] == [True, False]
    assert calls[1][:3] == [
        bench.config_path('coda', run['method']), '--work-dir', work_dir
    ]
    assert result['cpu_s'] == 2.0 and result['student']['forgetting'] == 5.0
    # finished: not trained again
    monkeypatch.setattr(bench, 'run_tool', _no_training)
    assert bench.execute(args, run) is None


def test_a_finished_work_dir_is_archived_only_with_its_options(tmp_path):
    args = bench.parse_args([
        '--quick', '--work-dir',
        str(tmp_path / 'work'), '--results-dir',
        str(tmp_path / 'results')
    ])
    run = bench.plan_runs(args)[0]
    report = dict(
        num_tasks=1,
        student=dict(matrix=[[50.0]], average_accuracy=50.0, forgetting=0.0))
    out = osp.dirname(bench.report_path(args, run))
    os.makedirs(out)
    with open(osp.join(out, 'continual_report.json'), 'w') as f:
        json.dump(report, f)
    # not started by the benchmark (no record of its options): ignored
    assert bench.load_finished(args, run) is None
    marker = osp.join(args.work_dir, run['name'], bench.RUN_MARKER)
    with open(marker, 'w') as f:
        json.dump(['train_cfg.max_iters=3'], f)
    assert bench.load_finished(args, run) is None  # other options
    with open(marker, 'w') as f:
        json.dump(bench._protocol_key(run), f)
    result = bench.load_finished(args, run)
    assert result['wall_s'] is None and result['student'] == report['student']
    assert osp.isfile(bench.archive_path(args, run))
