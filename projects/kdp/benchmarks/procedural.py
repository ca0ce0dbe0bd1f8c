"""KDP on the procedural shapes: learners x methods x seeds, with CIs.

The grid of prompt-based continual learners and student distillation
methods, with mean +- 95 % CI and paired differences.

Grid (the protocol of projects/kdp/results.md, "Protocol (fixed before
any result)"): the learners L2P, DualPrompt and
CODA-Prompt x the student's methods ``alone``, ``kd`` (logit KD), ``dkd``
and ``kdp`` (``--with-capacity`` adds ``kdp-capacity``, KDP's prompts
without a teacher) x the seeds 0, 1, 2. Every run is ``tools/train.py``
on the tiny config ``<learner>-<method>_tiny-vit_procedural.py`` as it is
(tiny ViT-B -> tiny ViT-S, 5 tasks x 4 classes), with the seed of the
run, of the class order and of the data order set to the seed. The two
tiny ViTs are pre-trained first by ``tools/pretrain_tiny_vit.py`` when
their checkpoints are missing.

A run whose result exists is not trained again: the result of every
finished run is archived under ``<results-dir>/procedural_runs/``, so a
grid resumes where it stopped, also from a fresh clone. An interrupted
run continues with ``--resume`` where the loop can resume, and starts
again otherwise. ``--jobs N`` trains N runs at once, one thread each.

Outputs (``--results-dir``), each starting with the command that wrote
it: ``procedural.csv`` (one row per finished run) and ``procedural.md``
(mean +- 95 % t CI per learner and method; the paired differences
KDP - KD and KDP - alone per learner and pooled over the learners, paired
by learner and seed).

Usage (from the repo root)::

    PYTHONPATH=. python projects/kdp/benchmarks/procedural.py --jobs 2
    PYTHONPATH=. python projects/kdp/benchmarks/procedural.py --report-only
    PYTHONPATH=. python projects/kdp/benchmarks/procedural.py --quick \\
        --work-dir /tmp/kdp_quick                         # a smoke run
"""
import argparse
import csv
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from had_mm.evaluation.statistics import fmt_ci, mean_ci
from had_mm.utils.benchmark_grid import grid_command
from had_mm.utils.cli import fill_grid_defaults, new_parser

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
KDP = osp.join(REPO, 'projects', 'kdp')
CONFIGS = osp.join(KDP, 'configs')
PRETRAIN_TOOL = osp.join(KDP, 'tools', 'pretrain_tiny_vit.py')
RESULTS_DIR = osp.join(KDP, 'benchmarks', 'results')
#: Learner key -> name in the tables.
LEARNERS = dict(l2p='L2P', dualprompt='DualPrompt', coda='CODA-Prompt')
#: Method key -> name in the tables (every tiny config has these).
NAMES = dict(
    alone='student alone',
    kd='logit KD',
    kdp='KDP',
    dkd='DKD',
    fitnets='FitNets',
    reviewkd='ReviewKD',
    **{'kdp-capacity': 'KD prompts, no teacher (capacity control)'})
#: The methods of the grid; ``--with-capacity`` adds ``kdp-capacity``.
METHODS = ('alone', 'kd', 'dkd', 'kdp')
CAPACITY = 'kdp-capacity'
#: The methods that train without a teacher.
TEACHERLESS = ('alone', CAPACITY)
#: The paired differences ``A - B`` of the report, paired by (learner,
#: seed); the last one only with ``--with-capacity``.
PAIRS = (('kdp', 'kd'), ('kdp', 'alone'), ('kdp', CAPACITY))
#: The pre-trained tiny ViTs: the name of ``pretrain_tiny_vit.py
#: --which`` -> the checkpoint's file name (the tiny configs' names).
PRETRAINED = dict(student='tiny-vit-s.pth', teacher='tiny-vit-b.pth')
PROTOCOL = dict(
    learners=list(LEARNERS), seeds=[0, 1, 2], options=[], pretrain_options=[])
#: ``--quick``: every code path in seconds (2 iterations per stage, a
#: few images, a one-epoch pre-training on 4 classes).
QUICK = dict(
    learners=['coda'],
    seeds=[0, 1],
    options=[
        'train_cfg.max_epochs=None',
        'train_cfg.max_iters=2',
        'train_cfg.save_checkpoint=False',
        'train_dataloader.batch_size=8',
        'train_dataloader.dataset.num_per_class=8',
        'val_dataloader.batch_size=40',
        'val_dataloader.dataset.num_per_class=4',
        'test_dataloader.dataset.num_per_class=4',
        # no gc.collect per dataset build (most of a tiny run's time)
        'train_dataloader.dataset.serialize_data=False',
        'val_dataloader.dataset.serialize_data=False',
        'test_dataloader.dataset.serialize_data=False'
    ],
    pretrain_options=[
        '--epochs', '1', '--num-classes', '4', '--num-per-class', '4',
        '--batch-size', '16'
    ])
CSV_COLS = ('learner', 'method', 'seed', 'final_avg_acc', 'forgetting',
            'teacher_final_avg_acc', 'wall_s', 'cpu_s', 'pretrained', 'matrix')


# ------------------------------------------------------------ statistics
def paired_differences(
    rows: Sequence[dict],
    a: str,
    b: str,
    col: str,
    learners: Optional[Sequence[str]] = None
) -> List[Tuple[Tuple[str, int], float]]:
    """The differences ``A - B`` of one column, paired by (learner, seed).

    Args:
        rows (Sequence[dict]): One row per run (``learner``, ``method``,
            ``seed`` and the column).
        a (str): Method A.
        b (str): Method B.
        col (str): The column.
        learners (Sequence[str], optional): Keep these learners. None
            keeps all of them (pooled).

    Returns:
        list[tuple[tuple[str, int], float]]: ``((learner, seed), A - B)``
        for every (learner, seed) where both runs have the value, sorted.
    """

    def by_key(method):
        return {
            (r['learner'], r['seed']): r[col]
            for r in rows
            if r['method'] == method and (learners is None or r['learner'] in
                                          learners) and r[col] is not None
        }

    ra, rb = by_key(a), by_key(b)
    return [(k, ra[k] - rb[k]) for k in sorted(set(ra) & set(rb))]


# ------------------------------------------------------------ tables
def summary_table(rows: Sequence[dict], learners: Sequence[str],
                  methods: Sequence[str]) -> str:
    """Mean ± 95 % CI over the seeds, per learner and method (markdown).

    Args:
        rows (Sequence[dict]): One row per run, with ``final_avg_acc``,
            ``forgetting`` and ``teacher_final_avg_acc`` (None without a
            teacher).
        learners (Sequence[str]): The learners, in table order.
        methods (Sequence[str]): The methods, in table order.

    Returns:
        str: The table; a (learner, method) without runs is left out.
    """
    lines = [
        '| learner | method | n | student final avg acc (%) | student '
        'forgetting (%) | teacher final avg acc (%) | seeds |',
        '|---|---|---|---|---|---|---|',
    ]
    for learner in learners:
        for method in methods:
            mine = sorted(
                (r for r in rows
                 if r['learner'] == learner and r['method'] == method),
                key=lambda r: r['seed'])
            if not mine:
                continue
            cells = [
                fmt_ci(*mean_ci([r[c] for r in mine]))
                for c in ('final_avg_acc', 'forgetting',
                          'teacher_final_avg_acc')
            ]
            seeds = ', '.join(str(r['seed']) for r in mine)
            lines.append(f'| {LEARNERS[learner]} | {NAMES[method]} | '
                         f'{len(mine)} | ' + ' | '.join(cells) +
                         f' | {seeds} |')
    return '\n'.join(lines)


def paired_table(rows: Sequence[dict], learners: Sequence[str],
                 pairs: Sequence[Tuple[str, str]]) -> str:
    """Paired differences ``A - B`` per learner and pooled (markdown).

    Args:
        rows (Sequence[dict]): One row per run.
        learners (Sequence[str]): The learners, in table order.
        pairs (Sequence[tuple[str, str]]): The ``(A, B)`` method pairs.

    Returns:
        str: The table: mean ± 95 % CI of the differences in final
        average accuracy and in forgetting, and the number of pairs.
    """
    lines = [
        '| A - B | learner | n pairs | final avg acc (points) | '
        'forgetting (points; < 0: A forgets less) |', '|---|---|---|---|---|'
    ]
    for a, b in pairs:
        for learner in list(learners) + [None]:
            subset = None if learner is None else [learner]
            acc = paired_differences(rows, a, b, 'final_avg_acc', subset)
            if not acc:
                continue
            fgt = paired_differences(rows, a, b, 'forgetting', subset)
            name = ('pooled (' + ', '.join(LEARNERS[x] for x in learners) +
                    ')') if learner is None else LEARNERS[learner]
            lines.append(f'| {NAMES[a]} - {NAMES[b]} | {name} | {len(acc)} | '
                         f'{fmt_ci(*mean_ci([d for _, d in acc]))} | '
                         f'{fmt_ci(*mean_ci([d for _, d in fgt]))} |')
    return '\n'.join(lines)


def teacher_check(rows: Sequence[dict]) -> str:
    """Whether the distilled runs of a (learner, seed) share one teacher.

    The teacher is built and trained from its own random stream, so it
    should not depend on the student's method: then a paired difference
    between distilled methods compares students of one teacher.

    Args:
        rows (Sequence[dict]): One row per run.

    Returns:
        str: A sentence for the report ('' without distilled runs).
    """
    cells: Dict[Tuple[str, int], set] = {}
    for r in rows:
        if r['teacher_final_avg_acc'] is not None:
            cells.setdefault((r['learner'], r['seed']),
                             set()).add(round(r['teacher_final_avg_acc'], 6))
    if not cells:
        return ''
    same = sum(len(v) == 1 for v in cells.values())
    return (f'The teacher\'s final average accuracy is the same for every '
            f'distilled method in {same} of {len(cells)} (learner, seed) '
            'cells.')


# ------------------------------------------------------------ the grid
def config_path(learner: str, method: str) -> str:
    """The tiny procedural config of a learner and method.

    Args:
        learner (str): A key of :data:`LEARNERS`.
        method (str): A key of :data:`NAMES`.

    Returns:
        str: Its path.
    """
    return osp.join(CONFIGS, f'{learner}-{method}_tiny-vit_procedural.py')


def seed_options(seed: int) -> List[str]:
    """The ``--cfg-options`` that give a run its seed.

    The seed is the seed of the run (initialisation, data order) and of
    the class order of every split.

    Args:
        seed (int): The seed.

    Returns:
        list[str]: ``key=value`` overrides.
    """
    return [
        f'randomness.seed={seed}',
        f'train_dataloader.dataset.class_order_seed={seed}',
        f'val_dataloader.dataset.class_order_seed={seed}',
        f'test_dataloader.dataset.class_order_seed={seed}',
    ]


def checkpoint_options(method: str, pretrain_dir: str) -> List[str]:
    """The ``--cfg-options`` that load the pre-trained tiny ViTs.

    Args:
        method (str): The method (a teacherless one gets no teacher
            options).
        pretrain_dir (str): The folder of the checkpoints.

    Returns:
        list[str]: ``key=value`` overrides.
    """
    student = osp.join(pretrain_dir, PRETRAINED['student'])
    teacher = osp.join(pretrain_dir, PRETRAINED['teacher'])
    options = [f'model.student.backbone_checkpoint={student}']
    if method not in TEACHERLESS:
        options += [
            f'model.teacher.backbone_checkpoint={teacher}',
            f'model.teacher.query_checkpoint={student}'
        ]
    return options


def plan_runs(args: argparse.Namespace) -> List[dict]:
    """Every run of the grid, in the order they are started.

    Seed by seed and learner by learner, so that the pairs of a (learner,
    seed) arrive together; in a cell the longer distilled runs first.

    Args:
        args (argparse.Namespace): The options.

    Returns:
        list[dict]: ``learner``, ``method``, ``seed``, ``name`` (the
        relative work and archive folder) and ``options``.
    """
    longest_first = sorted(args.methods, key=lambda m: m in TEACHERLESS)
    runs = []
    for seed in args.seeds:
        for learner in args.learners:
            for method in longest_first:
                runs.append(
                    dict(
                        learner=learner,
                        method=method,
                        seed=seed,
                        name=osp.join(learner, method, f'seed{seed}'),
                        options=seed_options(seed) +
                        checkpoint_options(method, args.pretrain_dir) +
                        list(args.options)))
    return runs


def archive_path(args: argparse.Namespace, run: dict) -> str:
    """The archived result of a run (kept with the results, committed).

    Args:
        args (argparse.Namespace): The options.
        run (dict): From :func:`plan_runs`.

    Returns:
        str: ``<results-dir>/procedural_runs/<learner>/<method>/seed<s>.json``.
    """
    return osp.join(args.results_dir, 'procedural_runs', run['name'] + '.json')


def report_path(args: argparse.Namespace, run: dict) -> str:
    """The continual report the run writes in its work dir."""
    return osp.join(args.work_dir, run['name'], 'continual',
                    'continual_report.json')


def _complete(report: dict) -> bool:
    """Whether a continual report is the one of the last task."""
    student = report.get('student') or {}
    return len(student.get('matrix') or []) == report.get('num_tasks', -1)


#: The file in a run's work dir with the options it was started with.
RUN_MARKER = 'benchmark_options.json'
#: The options of :func:`checkpoint_options`: paths of this machine.
CHECKPOINT_KEYS = ('model.student.backbone_checkpoint=',
                   'model.teacher.backbone_checkpoint=',
                   'model.teacher.query_checkpoint=')


def _protocol_key(run: dict) -> List[str]:
    """What must match for an archived result to count for a run: its
    options, without the checkpoint paths (another clone's paths)."""
    return [o for o in run['options'] if not o.startswith(CHECKPOINT_KEYS)]


def load_finished(args: argparse.Namespace, run: dict) -> Optional[dict]:
    """The archived result of a finished run, or None.

    A complete report found only in the work dir (the driver stopped
    before archiving it) is archived first, without a wall time, when the
    run there was started with the same options.

    Args:
        args (argparse.Namespace): The options.
        run (dict): From :func:`plan_runs`.

    Returns:
        dict | None: The archived result.

    Raises:
        RuntimeError: The archived result was made with other options.
    """
    path = archive_path(args, run)
    marker = osp.join(args.work_dir, run['name'], RUN_MARKER)
    if not osp.isfile(path) and osp.isfile(report_path(args, run)) and \
            osp.isfile(marker):
        with open(marker) as f:
            same = json.load(f) == _protocol_key(run)
        with open(report_path(args, run)) as f:
            report = json.load(f)
        if same and _complete(report):
            archive(args, run, report, None)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        result = json.load(f)
    if result['options'] != _protocol_key(run):
        raise RuntimeError(
            f'{path} was made with the options {result["options"]}, not '
            f'{_protocol_key(run)}; move it away or use another '
            '--results-dir')
    return result


def _sha(path: str) -> str:
    """The first 12 hex digits of a file's SHA-256 ('' if missing)."""
    if not osp.isfile(path):
        return ''
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()[:12]


def archive(args: argparse.Namespace,
            run: dict,
            report: dict,
            wall_s: Optional[float],
            cpu_s: Optional[float] = None) -> dict:
    """Write the archived result of a finished run.

    Args:
        args (argparse.Namespace): The options.
        run (dict): From :func:`plan_runs`.
        report (dict): Its ``continual_report.json``.
        wall_s (float, optional): Its wall time (s).
        cpu_s (float, optional): Its CPU time (s, user + system).

    Returns:
        dict: The archived result.
    """
    result = dict(
        learner=run['learner'],
        method=run['method'],
        seed=run['seed'],
        config=osp.relpath(config_path(run['learner'], run['method']), REPO),
        options=_protocol_key(run),
        pretrained={
            k: _sha(osp.join(args.pretrain_dir, v))
            for k, v in PRETRAINED.items()
        },
        wall_s=wall_s,
        cpu_s=cpu_s,
        student=report['student'],
        teacher=report.get('teacher'))
    path = archive_path(args, run)
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, path)
    return result


TRAIN_TOOL = osp.join(REPO, 'tools', 'train.py')


def _load_tool(path: str):
    """Import a tool script as a module (for ``--in-process``)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'kdp_bench_' + osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(args: argparse.Namespace, tool: str, tool_args: List[str],
             log_path: str) -> Tuple[int, float]:
    """Run a tool script from the repo root and measure its CPU time.

    By default in a subprocess with ``args.threads`` threads, its output
    appended to a log; with ``--in-process`` by calling its ``main`` here
    (the tests: no interpreter start-up per run).

    Args:
        args (argparse.Namespace): The options.
        tool (str): The script (``tools/train.py``, the pre-training).
        tool_args (list[str]): Its arguments.
        log_path (str): The log (the command is written first).

    Returns:
        tuple[int, float]: The exit code and the CPU seconds (user +
        system) it used.
    """
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    cmd = [sys.executable, tool] + list(tool_args)
    with open(log_path, 'a') as log:
        log.write(f'$ {" ".join(cmd)}\n')
    if args.in_process:
        import traceback
        cpu0 = time.process_time()
        cwd = os.getcwd()
        code = 0
        try:
            os.chdir(REPO)
            _load_tool(tool).main(list(tool_args))
        except SystemExit as err:
            code = err.code if isinstance(err.code, int) else 1
        except Exception:  # noqa: B902  (a failed run, like a subprocess)
            with open(log_path, 'a') as log:
                log.write(traceback.format_exc())
            code = 1
        finally:
            os.chdir(cwd)
        return code, time.process_time() - cpu0
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(args.threads),
        PYTHONPATH=os.pathsep.join(
            [REPO] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    with open(log_path, 'a') as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def _start(work_dir: str, run: dict) -> None:
    """Make a run's work dir and record the options it starts with."""
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, RUN_MARKER), 'w') as f:
        json.dump(_protocol_key(run), f)


def execute(args: argparse.Namespace, run: dict) -> Optional[dict]:
    """Train one run unless it is finished; archive its result.

    Args:
        args (argparse.Namespace): The options.
        run (dict): From :func:`plan_runs`.

    Returns:
        dict | None: The archived result; None if the run was finished
        already (nothing trained).

    Raises:
        RuntimeError: The training failed.
    """
    if load_finished(args, run) is not None:
        return None
    work_dir = osp.join(args.work_dir, run['name'])
    log_path = work_dir + '.log'
    tool_args = [
        config_path(run['learner'], run['method']), '--work-dir', work_dir,
        '--cfg-options'
    ] + run['options']
    start = time.time()
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        # interrupted: continue where it stopped, where the loop can
        code, cpu = run_tool(args, TRAIN_TOOL, tool_args + ['--resume'],
                             log_path)
        if code != 0:
            with open(log_path) as f:
                if 'cannot resume' not in f.read():
                    raise RuntimeError(f'run {run["name"]} failed; see '
                                       f'{log_path}')
            shutil.rmtree(work_dir)  # this loop cannot: start again
            _start(work_dir, run)
            start = time.time()
            code, cpu = run_tool(args, TRAIN_TOOL, tool_args, log_path)
    else:
        if osp.isdir(work_dir):  # a stale partial run: start again
            shutil.rmtree(work_dir)
        _start(work_dir, run)
        code, cpu = run_tool(args, TRAIN_TOOL, tool_args, log_path)
    wall = time.time() - start
    report = None
    if code == 0 and osp.isfile(report_path(args, run)):
        with open(report_path(args, run)) as f:
            report = json.load(f)
    if report is None or not _complete(report):
        raise RuntimeError(f'run {run["name"]} failed; see {log_path}')
    result = archive(args, run, report, wall, cpu)
    print(
        f'done {run["name"]}: student acc '
        f'{report["student"]["average_accuracy"]:.2f} forgetting '
        f'{report["student"]["forgetting"]:.2f} ({wall:.0f} s, '
        f'{cpu:.0f} CPU s)',
        flush=True)
    return result


def pretrain(args: argparse.Namespace) -> List[str]:
    """Pre-train the tiny ViTs whose checkpoints are missing.

    With ``--jobs`` of 2 or more the student and the teacher train at the
    same time.

    Args:
        args (argparse.Namespace): The options.

    Returns:
        list[str]: The ViTs trained (``student``, ``teacher``).
    """
    missing = [
        which for which, name in PRETRAINED.items()
        if not osp.isfile(osp.join(args.pretrain_dir, name))
    ]

    def one(which):
        tool_args = ['--which', which, '--out-dir', args.pretrain_dir] + list(
            args.pretrain_options)
        print(' '.join([PRETRAIN_TOOL] + tool_args), flush=True)
        log_path = osp.join(args.pretrain_dir, f'pretrain_{which}.log')
        if run_tool(args, PRETRAIN_TOOL, tool_args, log_path)[0] != 0:
            raise RuntimeError(f'pre-training failed; see {log_path}')

    if missing:
        with ThreadPoolExecutor(min(args.jobs, len(missing))) as pool:
            list(pool.map(one, missing))
    return missing


# ------------------------------------------------------------ outputs
def collect(args: argparse.Namespace, runs: Sequence[dict]) -> List[dict]:
    """One CSV row per finished run.

    Args:
        args (argparse.Namespace): The options.
        runs (Sequence[dict]): From :func:`plan_runs`.

    Returns:
        list[dict]: The rows (:data:`CSV_COLS`).
    """
    rows = []
    for run in runs:
        result = load_finished(args, run)
        if result is None:
            continue
        teacher = result.get('teacher')
        rows.append(
            dict(
                learner=run['learner'],
                method=run['method'],
                seed=run['seed'],
                final_avg_acc=result['student']['average_accuracy'],
                forgetting=result['student']['forgetting'],
                teacher_final_avg_acc=teacher['average_accuracy']
                if teacher and run['method'] not in TEACHERLESS else None,
                wall_s=result['wall_s'],
                cpu_s=result.get('cpu_s'),
                pretrained=' '.join(f'{k}:{v}'
                                    for k, v in result['pretrained'].items()),
                matrix=json.dumps(result['student']['matrix'])))
    return rows


def write_results(args: argparse.Namespace, runs: Sequence[dict],
                  command: str) -> str:
    """Write ``procedural.csv`` and ``procedural.md`` of the finished runs.

    Args:
        args (argparse.Namespace): The options.
        runs (Sequence[dict]): From :func:`plan_runs`.
        command (str): The command line, the first line of both files.

    Returns:
        str: The markdown report.
    """
    rows = collect(args, runs)
    os.makedirs(args.results_dir, exist_ok=True)
    options = ' '.join(args.options) or 'none (the configs as they are)'
    with open(
            osp.join(args.results_dir, 'procedural.csv'), 'w',
            newline='') as f:
        f.write(f'# command: {command}\n')
        f.write(f'# {len(rows)} of {len(runs)} runs finished; config '
                f'overrides: {options}; wall_s / cpu_s: wall and CPU '
                'seconds of one run, as it trained (its --threads, beside '
                'the other runs of --jobs)\n')
        writer = csv.DictWriter(f, fieldnames=list(CSV_COLS))
        writer.writeheader()
        writer.writerows(rows)
    pairs = [p for p in PAIRS if p[0] in args.methods and p[1] in args.methods]
    hashes = sorted({r['pretrained'] for r in rows})
    walls = [r['wall_s'] for r in rows if r['wall_s'] is not None]
    cpus = [r['cpu_s'] for r in rows if r['cpu_s'] is not None]
    md = [
        f'<!-- command: {command} -->',
        '# KDP on the procedural shapes (tiny ViT-B -> tiny ViT-S)', '',
        f'{len(rows)} of {len(runs)} runs finished. Learners '
        f'{", ".join(LEARNERS[x] for x in args.learners)}; seeds '
        f'{", ".join(map(str, args.seeds))}; 5 tasks x 4 classes; config '
        f'overrides: {options}. Class-incremental accuracy; mean ± 95 % '
        'CI (t, n - 1 degrees of freedom) over the seeds.', '',
        summary_table(rows, args.learners, args.methods), '',
        'Paired differences A - B, paired by (learner, seed); mean ± 95 % '
        'CI over the pairs.', '',
        paired_table(rows, args.learners, pairs), '',
        teacher_check(rows),
        f'Pre-trained tiny ViTs (SHA-256 prefixes): {"; ".join(hashes)}.'
        if hashes else '',
        f'Training time: {sum(walls) / 60:.1f} min of wall time and '
        f'{sum(cpus) / 60:.1f} CPU min over {len(walls)} run(s), as they '
        'trained (their --threads, beside the other runs of --jobs).'
        if walls else ''
    ]
    text = '\n'.join(md).rstrip() + '\n'
    with open(osp.join(args.results_dir, 'procedural.md'), 'w') as f:
        f.write(text)
    return text


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The options (the protocol's defaults, or ``--quick``'s).

    Args:
        argv (list[str], optional): The arguments; None reads
            ``sys.argv``.

    Returns:
        argparse.Namespace: The options, paths made absolute.
    """
    parser = new_parser(__doc__.splitlines()[0])
    parser.add_argument(
        '--quick',
        action='store_true',
        help='smoke run: CODA-Prompt, seeds 0 1, 2 iterations per stage, '
        'a one-epoch pre-training')
    parser.add_argument('--learners', nargs='+', choices=list(LEARNERS))
    parser.add_argument('--seeds', nargs='+', type=int)
    parser.add_argument(
        '--methods',
        nargs='+',
        choices=list(METHODS) + [CAPACITY],
        help='a subset of the methods (default: ' + ' '.join(METHODS) +
        ', and ' + CAPACITY + ' with --with-capacity)')
    parser.add_argument(
        '--with-capacity',
        action='store_true',
        help=f'also run {CAPACITY} (KDP\'s prompts, no teacher)')
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument(
        '--in-process',
        action='store_true',
        help='train in this process, one run after the other (the tests; '
        'needs --jobs 1)')
    parser.add_argument(
        '--threads', type=int, default=1, help='threads per run')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides for every run (recorded in the outputs; '
        'archived runs must match them)')
    parser.add_argument(
        '--work-dir',
        help='default: work_dirs/bench_kdp_procedural (with --quick: '
        'work_dirs/bench_kdp_procedural_quick)')
    parser.add_argument(
        '--pretrain-dir',
        help='the pre-trained tiny ViTs (written when missing); default: '
        'work_dirs/kdp_tiny_pretrain, where the tiny configs point (the '
        'work dir with --quick)')
    parser.add_argument(
        '--results-dir',
        help='default: projects/kdp/benchmarks/results (the work dir with '
        '--quick)')
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='tabulate the finished runs, train nothing')
    args = parser.parse_args(argv)
    if args.work_dir is None:
        args.work_dir = osp.join(
            REPO, 'work_dirs',
            'bench_kdp_procedural' + ('_quick' if args.quick else ''))
    args.work_dir = osp.abspath(args.work_dir)
    defaults = fill_grid_defaults(
        args, QUICK, PROTOCOL, RESULTS_DIR, keys=('learners', 'seeds'))
    if args.methods is None:
        args.methods = list(METHODS) + ([CAPACITY]
                                        if args.with_capacity else [])
    args.options = list(defaults['options']) + list(args.cfg_options)
    args.pretrain_options = list(defaults['pretrain_options'])
    if args.pretrain_dir is None:
        args.pretrain_dir = osp.join(
            args.work_dir, 'pretrain') if args.quick else osp.join(
                REPO, 'work_dirs', 'kdp_tiny_pretrain')
    args.results_dir = osp.abspath(args.results_dir)
    args.pretrain_dir = osp.abspath(args.pretrain_dir)
    if args.jobs <= 0 or args.threads <= 0:
        parser.error('--jobs and --threads must be positive')
    if args.in_process and args.jobs != 1:
        parser.error('--in-process needs --jobs 1')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Run the grid (or tabulate it) and print the report."""
    args = parse_args(argv)
    command = grid_command('projects/kdp/benchmarks/procedural.py',
                           sys.argv[1:] if argv is None else argv)
    runs = plan_runs(args)
    try:
        todo = [r for r in runs if load_finished(args, r) is None]
    except RuntimeError as err:
        sys.exit(f'error: {err}')
    if not args.report_only:
        print(
            f'{len(runs) - len(todo)} of {len(runs)} runs finished; '
            f'{len(todo)} to train, {args.jobs} at once',
            flush=True)
        if todo:
            try:
                pretrain(args)
            except RuntimeError as err:
                sys.exit(f'error: {err}')
        failed = []
        lock = threading.Lock()

        def job(run):
            try:
                execute(args, run)
            except RuntimeError as err:
                failed.append(str(err))
            with lock:  # refresh the tables as results arrive
                write_results(args, runs, command)

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(job, todo))
        if failed:
            write_results(args, runs, command)
            sys.exit('error: ' + '\nerror: '.join(failed))
    print(write_results(args, runs, command))


if __name__ == '__main__':
    main()
