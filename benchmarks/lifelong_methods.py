"""Lifelong methods on synthetic rooms: a grid with the power to separate
methods (protocol in docs/en/benchmarks/lifelong_benchmark.md, fixed
before any result).

Grid: methods (fine-tune, LwF, HAD with the default and the reference
preset) x initialisation regimes x task orders (forward: semantic -> depth
-> normal -> saliency; reverse; optionally the authors' 3-task order
semantic -> depth -> normal) x seeds. Regimes: ``random`` (dilated
ResNet-18, every weight random, Adam 1e-3) and ``imagenet`` (ImageNet-1k
EfficientNet-Lite0-d8 from the pinned wheel, heads random, Adam 1e-3 as the
random regime (protocol v2); the ``*_effnet-lite0-d8_*`` configs). The
stand-in ``pretrained`` regime (procedural encoder) is retired: its
archived runs are tabulated, labelled superseded, and never trained again.
Per (regime, order, seed) the single-task references (each task alone on
the chunk and schedule it gets in that order) give Delta_m; per (regime,
seed) a joint multi-task run on all the data with all labels (same total
iterations) is the upper bound. ``--references-only`` trains only the
single-task references (the pilot that sizes a regime) and writes
``lifelong_synthetic_pilot.{csv,md}``: them against the random regime's
references and the trivial predictors.

Every run is ``tools/train.py`` on a generated config under
``WORK_DIR/configs``; a run whose result exists is reused, so an
interrupted grid resumes where it stopped (a run killed mid-way restarts
from scratch). ``--jobs N`` runs N trainings at once, one thread each.
Outputs (``--results-dir``): ``lifelong_synthetic.csv`` (one row per run)
and ``lifelong_synthetic.md`` (tables: mean +- 95 % CI per method and
regime, paired differences), ``lifelong_synthetic_<regime>.png`` (each
task's primary metric against the phase, one line per method); every file
starts with the command that wrote it.

Usage::

    python benchmarks/lifelong_methods.py --jobs 2          # the grid
    python benchmarks/lifelong_methods.py --report-only     # tables so far
    python benchmarks/lifelong_methods.py --quick --work-dir /tmp/q \\
        --data-root DATA                                     # a smoke run
    python benchmarks/lifelong_methods.py --regimes imagenet \\
        --references-only --seeds 0 --orders forward         # the pilot
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from had_mm.evaluation.statistics import fmt_ci, mean_ci, paired_diffs
from had_mm.utils.benchmark_grid import (copy_if_missing, grid_command,
                                         run_jobs, run_logged)
from had_mm.utils.cli import add_grid_args, fill_grid_defaults, new_parser

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TASKS = ('semantic', 'depth', 'normal', 'saliency')
# 'authors': the order of HAD's code (3 tasks, thirds of the train split);
# beside the protocol's two, run only when asked (--orders)
ORDERS = {
    'forward': TASKS,
    'reverse': tuple(reversed(TASKS)),
    'authors': TASKS[:3]
}
REGIMES = ('random', 'imagenet')
# retired regimes: their archived runs are tabulated, never trained
SUPERSEDED = {
    'pretrained':
    'superseded: procedural stand-in encoder, replaced by imagenet'
}
# the encoder of each regime's configs, and the joint runs' Adam learning
# rate (the lifelong configs carry their own)
ENCODERS = {
    'random': 'r18-d8-c64',
    'imagenet': 'effnet-lite0-d8',
    'pretrained': 'r18-d8-c64'
}
LR = 1e-3  # Adam, every regime (the imagenet regime's protocol v2)
# iterations per phase of each regime (--iters overrides them all); the
# imagenet regime's 600 are step B of its protocol v2, after pilot 4
ITERS = {'random': 300, 'imagenet': 600, 'pretrained': 300}
# name -> base config of the lifelong method (random regime; the other
# regimes swap the encoder of the file name, see method_config)
METHODS = {
    'fine-tune':
    'configs/had/finetune_r18-d8-c64_synthetic-rooms-4tasks.py',
    'LwF':
    'configs/had/lwf_r18-d8-c64_synthetic-rooms-4tasks.py',
    'HAD':
    'configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py',
    'HAD (reference)':
    'configs/had/had-reference_r18-d8-c64_synthetic-rooms-4tasks.py',
}
# Options measured beside the protocol's grid (--add-methods): never in
# its default set, so they cannot change its verdicts.
OPTIONAL_METHODS = {
    'HAD (quantile DB)':
    'configs/had/had-db-quantile_r18-d8-c64_synthetic-rooms-4tasks.py',
}
ALL_METHODS = {**METHODS, **OPTIONAL_METHODS}
JOINT = 'joint'
JOINT_CONFIG = 'configs/dense/joint_r18-d8-c64_synthetic-rooms-4tasks.py'
# "A beats B" claims of the README, paired by (seed, order)
PAIRS = (
    ('HAD', 'LwF'),
    ('HAD', 'fine-tune'),
    ('HAD (reference)', 'LwF'),
    ('HAD (reference)', 'fine-tune'),
    ('HAD', 'HAD (reference)'),
    ('LwF', 'fine-tune'),
    ('HAD (quantile DB)', 'HAD'),
    ('HAD (quantile DB)', 'LwF'),
)
# The protocol (docs/en/benchmarks/lifelong_benchmark.md); --quick shrinks
# it to a smoke run of every code path.
PROTOCOL = dict(
    iters=None,
    batch_size=4,
    seeds=[0, 1, 2],
    orders=['forward', 'reverse'],
    regimes=list(REGIMES))
QUICK = dict(
    iters=2, batch_size=2, seeds=[0], orders=['forward'], regimes=['random'])
# forgetting_<task>: that task's relative forgetting (%), empty where it is
# the order's last task (never forgotten)
FORGET_COLS = tuple(f'forgetting_{t}' for t in TASKS)
RESULT_COLS = ('method', 'regime', 'order', 'seed') + TASKS + (
    'avg_forgetting', 'bwt', 'delta_m') + FORGET_COLS + ('matrix', )


def slug(name: str) -> str:
    return name.replace(' ', '').replace('(', '_').replace(')', '')


def method_config(config: str, regime: str) -> str:
    """The config of ``config`` (a random-regime file) in ``regime``: the
    same method on the regime's encoder."""
    path = config.replace(ENCODERS['random'], ENCODERS[regime])
    if not osp.isfile(osp.join(REPO, path)):
        raise FileNotFoundError(f'{regime} regime: no config {path}')
    return path


def _config_text(base: str, body: List[str], seed: int,
                 data_root: Optional[str], batch_size: int) -> str:
    lines = [
        f'_base_ = [{osp.join(REPO, base)!r}]',
        f'randomness = dict(seed={seed})',
        f'train_dataloader = dict(batch_size={batch_size})'
    ] + body
    if data_root:
        lines += [
            'train_dataloader = dict(batch_size='
            f'{batch_size}, dataset=dict(data_root={data_root!r}))',
            f'val_dataloader = dict(dataset=dict(data_root={data_root!r}))',
            f'test_dataloader = dict(dataset=dict(data_root={data_root!r}))'
        ]
    return '\n'.join(lines) + '\n'


def plan_runs(args, regimes: Optional[List[str]] = None) -> List[dict]:
    """Every run of the grid, in the order they are started: a whole
    (seed, order, regime) cell before the next, so that paired results
    arrive early. ``regimes`` defaults to ``args.regimes``."""
    runs = []
    methods = [] if args.references_only else args.methods
    for seed in args.seeds:
        for regime in regimes or args.regimes:
            iters = args.iters or ITERS[regime]
            for order in args.orders:
                tasks = ORDERS[order]
                cell = osp.join(regime, order, f's{seed}')
                phases = [dict(task=t, max_iters=iters) for t in tasks]
                for method in methods:
                    body = [
                        f'train_cfg = dict(phases={phases!r}, '
                        'progress_bar=False, pseudo_label_cache=True)'
                    ]
                    runs.append(
                        dict(
                            kind='lifelong',
                            phase_iters=[iters] * len(tasks),
                            method=method,
                            regime=regime,
                            order=order,
                            seed=seed,
                            work_dir=osp.join(cell, slug(method)),
                            base=method_config(ALL_METHODS[method], regime),
                            body=body))
                for i, task in enumerate(tasks):
                    body = [
                        f"train_cfg = dict(phases=[dict(task={task!r}, "
                        f"max_iters={iters}, chunk={i})], num_chunks="
                        f"{len(tasks)}, distill=None, progress_bar=False)"
                    ]
                    runs.append(
                        dict(
                            kind='single',
                            phase_iters=[iters],
                            method=f'single-{task}',
                            task=task,
                            regime=regime,
                            order=order,
                            seed=seed,
                            work_dir=osp.join(cell, f'single-{task}'),
                            base=method_config(METHODS['fine-tune'], regime),
                            body=body))
            if args.joint and not args.references_only:
                total = iters * len(TASKS)
                body = [
                    "optim_wrapper = dict(_delete_=True, type='OptimWrapper',"
                    " optimizer=dict(type='Adam', "
                    f"lr={LR!r}, weight_decay=1e-5))", 'param_scheduler = []',
                    f'train_cfg = dict(max_iters={total}, '
                    f'val_interval={total})',
                    'default_hooks = dict(checkpoint=dict(interval='
                    f'{total}))'
                ]
                runs.append(
                    dict(
                        kind='joint',
                        phase_iters=[total],
                        method=JOINT,
                        regime=regime,
                        order='all',
                        seed=seed,
                        work_dir=osp.join(regime, f's{seed}', JOINT),
                        base=method_config(JOINT_CONFIG, regime),
                        body=body))
    return runs


def result_path(args, run: dict) -> str:
    """Where the run writes its result in the work dir."""
    name = ('lifelong/lifelong_report.json'
            if run['kind'] != 'joint' else 'joint_result.json')
    return osp.join(args.work_dir, run['work_dir'], name)


def archive_path(args, run: dict) -> str:
    """The committed copy of a finished run's result: work dirs are not
    kept between machines, so the grid resumes from these."""
    return osp.join(args.results_dir, 'lifelong_synthetic_runs',
                    run['work_dir'], osp.basename(result_path(args, run)))


def _complete(path: str, run: dict) -> bool:
    if not osp.isfile(path):
        return False
    if run['kind'] == 'joint':
        return True
    with open(path) as f:
        report = json.load(f)
    # a lifelong report is written after every phase
    return len(report['matrix']) == len(report['tasks'])


def finished_result(args, run: dict) -> Optional[str]:
    """The final result file of a run (work dir, else archive), or None;
    a result found only in the work dir is archived."""
    path = result_path(args, run)
    archived = archive_path(args, run)
    if _complete(path, run):
        copy_if_missing(path, archived)
        return path
    return archived if _complete(archived, run) else None


def finished(args, run: dict) -> bool:
    """Whether a run has its final result."""
    return finished_result(args, run) is not None


def load_result(args, run: dict) -> Optional[dict]:
    """The final result of a run, loaded; None if it has none yet."""
    path = finished_result(args, run)
    if path is None:
        return None
    with open(path) as f:
        return json.load(f)


def schedule_mismatch(args, runs: List[dict]) -> Optional[str]:
    """The first finished run trained for another schedule than this grid
    asks, in one line; None if all agree. Results are keyed by run, not by
    schedule: reusing one would tabulate another protocol's number under
    this one's. A lifelong report records its ``phase_iters``, a joint
    result its last ``step``; reports written before the schedule was
    recorded carry neither and are taken as they are."""
    for run in runs:
        result = load_result(args, run)
        if result is None:
            continue
        got = result.get('phase_iters')
        if run['kind'] == 'joint' and result.get('step') is not None:
            got = [int(result['step'])]
        if got is not None and list(got) != run['phase_iters']:
            path = finished_result(args, run)
            return (f'{path} was trained {got} iterations per phase and this '
                    f'grid asks {run["phase_iters"]} for {run["work_dir"]}; '
                    'use the protocol\'s --iters, or another --work-dir and '
                    '--results-dir')
    return None


def _joint_metrics(work_dir: str) -> Optional[dict]:
    """The last validation metrics of an IterBasedTrainLoop run."""
    found = None
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                for line in f:
                    row = json.loads(line)
                    if any(k.startswith('semantic/') for k in row):
                        found = row
    return found


def execute(args, run: dict) -> None:
    """Train one run unless its result exists."""
    out = result_path(args, run)
    if finished(args, run):
        return
    work_dir = osp.join(args.work_dir, run['work_dir'])
    os.makedirs(work_dir, exist_ok=True)
    cfg_path = osp.join(args.work_dir, 'configs',
                        run['work_dir'].replace(os.sep, '__') + '.py')
    os.makedirs(osp.dirname(cfg_path), exist_ok=True)
    with open(cfg_path, 'w') as f:
        f.write(
            _config_text(run['base'], run['body'], run['seed'], args.data_root,
                         args.batch_size))
    cmd = [sys.executable, 'tools/train.py', cfg_path, '--work-dir', work_dir]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')  # interrupted: continue where it stopped
    start = time.time()
    if run_logged(cmd, work_dir + '.log', args.threads, REPO)[0] != 0:
        raise RuntimeError(f'run failed ({" ".join(cmd)}); see '
                           f'{work_dir}.log')
    if run['kind'] == 'joint':
        metrics = _joint_metrics(work_dir)
        if metrics is None:
            raise RuntimeError(f'joint run {work_dir} wrote no validation '
                               f'metrics; see {work_dir}.log')
        with open(out, 'w') as f:
            json.dump(metrics, f)
    print(f'done {run["work_dir"]} in {time.time() - start:.0f} s', flush=True)


def collect(args, runs: List[dict]) -> List[dict]:
    """One row per finished lifelong / joint run (single-task references
    enter as Delta_m)."""
    from had_mm.evaluation.lifelong_report import build_report, compute_delta_m
    from had_mm.tasks import primary_metrics
    PRIMARY_METRICS = primary_metrics()
    done = {r['work_dir']: r for r in runs if finished(args, r)}
    rows = []
    for run in runs:
        if run['work_dir'] not in done or run['kind'] == 'single':
            continue
        res = load_result(args, run)
        if run['kind'] == 'joint':
            refs = _references(args, runs, done, run['regime'], run['seed'],
                               None)
            final = [float(res[f'{t}/{PRIMARY_METRICS[t][0]}']) for t in TASKS]
            delta_m = compute_delta_m(final, [refs[t] for t in TASKS],
                                      [PRIMARY_METRICS[t][1]
                                       for t in TASKS]) if refs else None
            rows.append(
                dict(
                    method=JOINT,
                    regime=run['regime'],
                    order='all',
                    seed=run['seed'],
                    **dict(zip(TASKS, final)),
                    avg_forgetting=None,
                    bwt=None,
                    delta_m=delta_m,
                    **dict.fromkeys(FORGET_COLS),
                    matrix=None))
            continue
        tasks = res['tasks']
        refs = _references(args, runs, done, run['regime'], run['seed'],
                           run['order'])
        rep = build_report(tasks, res['matrix'], reference=refs)
        final = dict(zip(tasks, rep.matrix[-1]))
        rows.append(
            dict(
                method=run['method'],
                regime=run['regime'],
                order=run['order'],
                seed=run['seed'],
                **{t: final.get(t)
                   for t in TASKS},
                avg_forgetting=rep.avg_forgetting,
                bwt=rep.bwt,
                delta_m=rep.delta_m if refs else None,
                **{f'forgetting_{t}': rep.forgetting.get(t)
                   for t in TASKS},
                matrix=json.dumps(res['matrix'])))
    return rows


def _references(args, runs, done, regime, seed, order) -> Optional[dict]:
    """Single-task reference metric per task of a (regime, seed, order)
    cell; order None averages the orders (for the joint run)."""
    vals: Dict[str, list] = {}
    for run in runs:
        if (run['kind'] != 'single' or run['regime'] != regime
                or run['seed'] != seed
                or (order is not None and run['order'] != order)):
            continue
        if run['work_dir'] not in done:
            continue
        vals.setdefault(run['task'],
                        []).append(load_result(args, run)['matrix'][-1][0])
    if set(vals) != set(ORDERS[order] if order else TASKS):
        return None
    return {t: float(np.mean(v)) for t, v in vals.items()}


def reference_rows(args, runs) -> List[dict]:
    """Single-task reference metrics of the finished runs."""
    rows = []
    for run in runs:
        result = load_result(args, run) if run['kind'] == 'single' else None
        if result is not None:
            rows.append(
                dict(
                    method=run['method'],
                    regime=run['regime'],
                    order=run['order'],
                    seed=run['seed'],
                    task=run['task'],
                    value=result['matrix'][-1][0]))
    return rows


def _by_seed_order(rows: List[dict], method: str,
                   regime: str) -> Dict[tuple, dict]:
    return {
        (r['seed'], r['order']): r
        for r in rows if r['method'] == method and r['regime'] == regime
    }


def _paired_table(rows: List[dict], regime: str, methods: List[str],
                  cols: List[str], heads: List[str]) -> List[str]:
    """Markdown rows of the paired differences A - B of ``PAIRS`` (by
    (seed, order)), mean ± 95 % CI per column."""
    out = [
        '| A - B | n | ' + ' | '.join(heads) + ' |',
        '|---' * (2 + len(heads)) + '|'
    ]
    for a, b in PAIRS:
        if a not in methods or b not in methods:
            continue
        ra, rb = (_by_seed_order(rows, m, regime) for m in (a, b))
        keys = sorted(set(ra) & set(rb))
        if not keys:
            continue
        cells = []
        for col in cols:
            a_col = {k: r[col] for k, r in ra.items()}
            b_col = {k: r[col] for k, r in rb.items()}
            diffs = paired_diffs(a_col, b_col)
            cells.append(
                fmt_ci(*mean_ci(diffs), digits=3 if col == 'depth' else 2))
        out.append(f'| {a} - {b} | {len(keys)} | ' + ' | '.join(cells) + ' |')
    return out


REGIME_CHECK_HEAD = [
    '| regime | task | n | reference | random (same cells) | trivial | '
    'beats random | beats trivial |', '|---' * 8 + '|'
]


def regime_check(ref_rows: List[dict], trivial: dict,
                 regime: str) -> List[str]:
    """Table rows: a regime's single-task references per task against the
    random regime's on the same (order, seed) cells and against the
    trivial predictors. "beats": better mean in the direction of the
    task's primary metric; a regime counts only if it beats both on every
    task (docs/en/benchmarks/lifelong_benchmark.md)."""
    from had_mm.tasks import primary_metrics
    signs = {t: sign for t, (_, sign) in primary_metrics().items()}
    out = []
    for task in TASKS:
        mine = [
            r for r in ref_rows if r['regime'] == regime and r['task'] == task
        ]
        if not mine:
            continue
        cells = {(r['order'], r['seed']) for r in mine}
        rand = [
            r['value'] for r in ref_rows
            if r['regime'] == 'random' and r['task'] == task and (
                r['order'], r['seed']) in cells
        ]
        values = [r['value'] for r in mine]
        digits = 3 if task == 'depth' else 2
        m, t = float(np.mean(values)), trivial.get(task)
        r_ = float(np.mean(rand)) if rand else None

        def beats(other):
            if other is None:
                return '-'
            return 'yes' if signs[task] * (m - other) > 0 else 'NO'

        cells_text = [
            str(len(values)),
            fmt_ci(*mean_ci(values), digits=digits),
            fmt_ci(*mean_ci(rand), digits=digits) if rand else '-',
            f'{t:.{digits}f}' if t is not None else '-',
            beats(r_),
            beats(t)
        ]
        out.append(f'| {regime} | {task} | ' + ' | '.join(cells_text) + ' |')
    return out


def tables(rows: List[dict],
           ref_rows: List[dict],
           args,
           trivial: Optional[dict] = None) -> str:
    from had_mm.tasks import primary_metrics
    PRIMARY_METRICS = primary_metrics()
    cols = list(TASKS) + ['avg_forgetting', 'bwt', 'delta_m']
    heads = [
        f'{t} {PRIMARY_METRICS[t][0]} ({"+" if PRIMARY_METRICS[t][1] > 0 else "-"})'  # noqa: E501
        for t in TASKS
    ] + ['avg forgetting % (-)', 'BWT % (+)', 'Delta_m % (+)']
    out = []
    methods = list(args.methods) + ([JOINT] if args.joint else [])
    for regime in report_regimes(args):
        label = f' ({SUPERSEDED[regime]})' if regime in SUPERSEDED else ''
        out += [
            f'\n### Regime: {regime}{label}\n',
            '| method | n | ' + ' | '.join(heads) + ' |',
            '|---' * (len(heads) + 2) + '|'
        ]
        for method in methods:
            mine = [
                r for r in rows
                if r['method'] == method and r['regime'] == regime
            ]
            if not mine:
                continue
            cells = [
                fmt_ci(
                    *mean_ci([r[c] for r in mine]),
                    digits=3 if c == 'depth' else 2) for c in cols
            ]
            out.append(f'| {method} | {len(mine)} | ' + ' | '.join(cells) +
                       ' |')
        refs = [r for r in ref_rows if r['regime'] == regime]
        if refs:
            out.append(
                '\nsingle-task references (mean ± 95 % CI over '
                'seeds and orders): ' + ', '.join(f'{t} ' + fmt_ci(
                    *mean_ci([r['value'] for r in refs if r['task'] == t]),
                    digits=3) for t in TASKS))
        if refs and regime != 'random':
            out += [
                f'\nDoes the {regime} regime count? Its single-task '
                'references against the random regime\'s on the same '
                '(order, seed) cells and against the trivial predictors; it '
                'counts only if it beats both on every task (mean, direction '
                'of the metric).\n'
            ] + REGIME_CHECK_HEAD + regime_check(ref_rows, trivial or {},
                                                 regime)
        out += [
            f'\nPaired differences ({regime}; A - B per (seed, order), '
            'mean ± 95 % CI; forgetting: negative = A forgets less)\n'
        ] + _paired_table(rows, regime, methods,
                          ['avg_forgetting', 'delta_m'] + list(TASKS),
                          ['avg forgetting %', 'Delta_m %'] + list(TASKS))
        out += [
            f'\nForgetting per task ({regime}; relative %, a task is '
            'forgotten in the orders where it is not last: semantic in the '
            'forward order, saliency in the reverse one, depth and normal in '
            'both)\n', '| method | ' + ' | '.join(TASKS) + ' |',
            '|---' * (1 + len(TASKS)) + '|'
        ]
        for method in args.methods:
            mine = [
                r for r in rows
                if r['method'] == method and r['regime'] == regime
            ]
            if mine:
                out.append(f'| {method} | ' + ' | '.join(
                    fmt_ci(*mean_ci([r[c] for r in mine]))
                    for c in FORGET_COLS) + ' |')
        out += ['\nPaired, A - B (negative = A forgets less)\n'
                ] + _paired_table(rows, regime, methods, list(FORGET_COLS),
                                  list(TASKS))
    return '\n'.join(out)


def plot(rows: List[dict], args, regime: str, path: str) -> bool:
    """Each task's primary metric against the phase, one line per method
    (mean over seeds), one row of panels per order."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    mine = [r for r in rows if r['regime'] == regime and r['matrix']]
    orders = [o for o in args.orders if any(r['order'] == o for r in mine)]
    if not orders:
        return False
    fig, axes = plt.subplots(
        len(orders),
        len(TASKS),
        figsize=(4 * len(TASKS), 3.2 * len(orders)),
        squeeze=False)
    for i, order in enumerate(orders):
        tasks = ORDERS[order]
        for j, task in enumerate(TASKS):
            ax = axes[i][j]
            if task not in tasks:
                ax.axis('off')
                continue
            col = tasks.index(task)
            for method in args.methods:
                mats = [
                    json.loads(r['matrix']) for r in mine
                    if r['method'] == method and r['order'] == order
                ]
                if not mats:
                    continue
                xs = list(range(col + 1, len(tasks) + 1))
                ys = np.array([[m[k][col] for k in range(col, len(tasks))]
                               for m in mats], float)
                ax.plot(
                    xs,
                    ys.mean(0),
                    marker='o',
                    label=f'{method} '
                    f'(n={len(mats)})')
            ax.set_title(f'{task} ({order} order)')
            ax.set_xlabel('after phase')
            ax.set_xticks(range(1, len(tasks) + 1))
            from had_mm.tasks import get_task
            ax.set_ylabel(get_task(task).primary_metric)
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    fig.suptitle(f'synthetic rooms, {regime} initialisation: primary '
                 'metric per task after each phase (mean over seeds)')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def iters_text(args, regimes: List[str]) -> str:
    """The iterations per phase, for the headers of the results."""
    if args.iters:
        return f'{args.iters} iterations per phase'
    return 'iterations per phase: ' + ', '.join(f'{r} {ITERS[r]}'
                                                for r in regimes)


def report_regimes(args) -> List[str]:
    """The regimes tabulated: those of the run, then every superseded one
    with archived runs (labelled as such)."""
    archive = osp.join(args.results_dir, 'lifelong_synthetic_runs')
    return list(args.regimes) + [
        r for r in SUPERSEDED
        if r not in args.regimes and osp.isdir(osp.join(archive, r))
    ]


def trivial_metrics(args) -> Optional[dict]:
    """The trivial predictors' primary metric per task on the test split
    (``tools/analysis/trivial_baselines.py``, written once to the work dir
    and archived beside the runs), or None when it cannot run."""
    from had_mm.tasks import primary_metrics
    path = osp.join(args.work_dir, 'trivial_baselines.json')
    archived = osp.join(args.results_dir, 'lifelong_synthetic_runs',
                        'trivial_baselines.json')
    if not osp.isfile(path) and osp.isfile(archived):
        path = archived
    if not osp.isfile(path):
        cfg_path = osp.join(args.work_dir, 'configs', 'trivial.py')
        os.makedirs(osp.dirname(cfg_path), exist_ok=True)
        with open(cfg_path, 'w') as f:
            f.write(
                _config_text(METHODS['fine-tune'], [], 0, args.data_root,
                             args.batch_size))
        cmd = [
            sys.executable, 'tools/analysis/trivial_baselines.py', cfg_path,
            '--out', path
        ]
        if run_logged(cmd, path + '.log', args.threads, REPO)[0] != 0:
            return None
    copy_if_missing(path, archived)
    with open(path) as f:
        metrics = json.load(f)['metrics']
    return {
        t: float(metrics[f'{t}/{name}'])
        for t, (name, _) in primary_metrics().items() if t in TASKS
    }


def write_pilot(args, runs: List[dict], command: str) -> str:
    """The pilot of a regime (``--references-only``): its single-task
    references against the random regime's on the same (order, seed)
    cells and against the trivial predictors (:func:`regime_check`)."""
    cells = [(o, s) for s in args.seeds for o in args.orders]
    random_runs = plan_runs(args, ['random'])
    ref_rows = reference_rows(args, runs) + [
        r for r in reference_rows(args, random_runs)
        if (r['order'], r['seed']) in cells
    ]
    trivial = trivial_metrics(args) or {}
    os.makedirs(args.results_dir, exist_ok=True)
    with open(
            osp.join(args.results_dir, 'lifelong_synthetic_pilot.csv'),
            'w',
            newline='') as f:
        f.write(f'# command: {command}\n')
        writer = csv.DictWriter(
            f,
            fieldnames=['method', 'regime', 'order', 'seed', 'task', 'value'])
        writer.writeheader()
        writer.writerows(ref_rows)
    out = [
        f'<!-- command: {command} -->', '# Lifelong benchmark: pilot of '
        'the single-task references\n',
        f'{iters_text(args, list(args.regimes) + ["random"])} (batch '
        f'{args.batch_size}, 96x128), cells (order, seed) {cells}; mean ± '
        '95 % CI (t) over the finished cells; "beats": the regime\'s mean is '
        'better (direction of the metric) than the random regime\'s mean on '
        'the same cells and than the trivial predictor.\n'
    ] + REGIME_CHECK_HEAD
    for regime in args.regimes:
        if regime != 'random':
            out += regime_check(ref_rows, trivial, regime)
    md = '\n'.join(out) + '\n'
    with open(osp.join(args.results_dir, 'lifelong_synthetic_pilot.md'),
              'w') as f:
        f.write(md)
    return md


def write_results(args, runs: List[dict], command: str) -> str:
    if args.references_only:
        return write_pilot(args, runs, command)
    rows = collect(args, runs)
    ref_rows = reference_rows(args, runs)
    os.makedirs(args.results_dir, exist_ok=True)
    csv_path = osp.join(args.results_dir, 'lifelong_synthetic.csv')
    with open(csv_path, 'w', newline='') as f:
        f.write(f'# command: {command}\n')
        f.write(f'# {iters_text(args, report_regimes(args))}, batch '
                f'{args.batch_size}, 96x128; '
                f'{len(rows)} runs finished\n')
        writer = csv.DictWriter(f, fieldnames=list(RESULT_COLS))
        writer.writeheader()
        writer.writerows(rows)
    ref_path = osp.join(args.results_dir, 'lifelong_synthetic_single.csv')
    with open(ref_path, 'w', newline='') as f:
        f.write(f'# command: {command}\n')
        writer = csv.DictWriter(
            f,
            fieldnames=['method', 'regime', 'order', 'seed', 'task', 'value'])
        writer.writeheader()
        writer.writerows(ref_rows)
    # the trivial predictors enter only the check of a non-random regime
    trivial = trivial_metrics(args) if any(r['regime'] != 'random'
                                           for r in ref_rows) else None
    table = tables(rows, ref_rows, args, trivial)
    md = (f'<!-- command: {command} -->\n# Lifelong methods on synthetic '
          f'rooms\n\n{iters_text(args, report_regimes(args))} (batch '
          f'{args.batch_size}, 96x128), '
          f'seeds {args.seeds}, orders {args.orders}; mean ± 95 % CI (t) '
          f'over (seed, order) runs.\n' + table + '\n')
    with open(osp.join(args.results_dir, 'lifelong_synthetic.md'), 'w') as f:
        f.write(md)
    for regime in args.regimes:
        plot(rows, args, regime,
             osp.join(args.results_dir, f'lifelong_synthetic_{regime}.png'))
    return md


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = new_parser(__doc__.splitlines()[0])
    parser.add_argument(
        '--quick',
        action='store_true',
        help='smoke run: 1 seed, forward order, random '
        'initialisation, 2 iterations per phase')
    parser.add_argument('--iters', type=int, help='iterations per phase')
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--seeds', type=int, nargs='+')
    parser.add_argument('--orders', nargs='+', choices=list(ORDERS))
    parser.add_argument('--regimes', nargs='+', choices=list(REGIMES))
    parser.add_argument(
        '--methods', nargs='+', choices=list(METHODS), default=list(METHODS))
    parser.add_argument(
        '--add-methods',
        nargs='+',
        choices=list(OPTIONAL_METHODS),
        default=[],
        help='options measured beside the protocol\'s methods, on the same '
        'cells (their rows join the tables)')
    parser.add_argument('--no-joint', dest='joint', action='store_false')
    parser.add_argument(
        '--references-only',
        action='store_true',
        help='the pilot of a regime: train only the single-task references '
        'and write lifelong_synthetic_pilot.{csv,md} (against the random '
        'regime\'s references and the trivial predictors)')
    add_grid_args(
        parser,
        work_dir='work_dirs/bench_lifelong',
        data_root_help='synthetic rooms root')
    args = parser.parse_args(argv)
    args.methods += [m for m in args.add_methods if m not in args.methods]
    fill_grid_defaults(args, QUICK, PROTOCOL,
                       osp.join(REPO, 'benchmarks', 'results'))
    args.work_dir = osp.abspath(args.work_dir)
    if args.data_root:
        args.data_root = osp.abspath(args.data_root)
    if (args.iters is not None and args.iters <= 0) or args.jobs <= 0:
        parser.error('--iters and --jobs must be positive')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    command = grid_command('benchmarks/lifelong_methods.py',
                           sys.argv[1:] if argv is None else argv)
    runs = plan_runs(args)
    # the tables also show the archived runs of superseded regimes
    shown = runs if args.references_only else plan_runs(
        args, report_regimes(args))
    mismatch = schedule_mismatch(args, runs)
    if mismatch:
        sys.exit(f'error: {mismatch}')
    if not args.report_only:
        jobs = [dict(run, key=run['work_dir']) for run in runs]
        errors = run_jobs(jobs, args.jobs, lambda job: execute(args, job),
                          lambda: write_results(args, shown, command))
        if errors:
            sys.exit('error: ' + '\nerror: '.join(errors))
    print(write_results(args, shown, command))


if __name__ == '__main__':
    main()
