# Copyright (c) had_mm contributors. All rights reserved.
"""Plot loss and metric curves of one or several runs.

Example::

    python tools/analysis/analyze_logs.py work_dirs/demo \\
        --keys loss semantic/mIoU depth/abs_err --out curves.png
    python tools/analysis/analyze_logs.py work_dirs/had work_dirs/finetune \\
        --keys 'semantic/*' --legend HAD fine-tune

Each RUN is a work dir (every ``<timestamp>/vis_data/scalars.json`` under
it, in time order, so a resumed run is one curve), one timestamp folder or
one ``scalars.json``. A key is a logged name (``loss``, ``lr``,
``semantic.loss_ce``, ``depth/abs_err``...) or a shell-style pattern
(``'*loss_distill'``); ``--list-keys`` prints them. One panel per key,
training values against the iteration, evaluations as markers.

For a lifelong run the phases are read from the losses (phase *t* logs the
loss of its own task, e.g. ``depth.loss_depth``): dashed lines mark the
phase boundaries and each segment is labelled with its task.
"""
import argparse
import difflib
import fnmatch
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'data'))
from light_import import cli  # noqa: E402

# Logged bookkeeping, not curves.
NOT_CURVES = ('iter', 'step', 'epoch')


class LogError(Exception):
    """Bad input, reported as one line."""


def find_scalar_files(run: str) -> List[str]:
    """The ``scalars.json`` files of a run, oldest first.

    Args:
        run (str): A work dir, a timestamp folder or a ``scalars.json``.

    Returns:
        list[str]: The files.

    Raises:
        LogError: If ``run`` does not exist or has no such file.
    """
    if osp.isfile(run):
        return [run]
    if not osp.isdir(run):
        raise LogError(f'run "{run}" does not exist; pass a work dir, a '
                       f'timestamp folder or a scalars.json')
    files = sorted(glob.glob(osp.join(run, 'vis_data', 'scalars.json')))
    # <work_dir>/<timestamp>/vis_data/scalars.json: names sort by time
    files += sorted(glob.glob(osp.join(run, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise LogError(f'no vis_data/scalars.json under "{run}"; was it '
                       f'written by tools/train.py (LocalVisBackend)?')
    return files


def load_scalars(run: str) -> Tuple[List[dict], List[dict]]:
    """Training and evaluation records of a run, by iteration.

    A resumed run logs some iterations again: the later file wins.

    Args:
        run (str): See :func:`find_scalar_files`.

    Returns:
        tuple[list[dict], list[dict]]: Training records (with ``iter``)
        and evaluation records (with ``step`` only), sorted.

    Raises:
        LogError: If a file is not JSON lines or has no records.
    """
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for path in find_scalar_files(run):
        with open(path) as f:
            for num, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise LogError(f'"{path}" line {num} is not JSON ({err})')
                if 'iter' in record:
                    train[int(record['iter'])] = record
                elif 'step' in record:
                    val[int(record['step'])] = record
    if not train and not val:
        raise LogError(f'run "{run}" has no logged values yet')
    return ([train[k] for k in sorted(train)], [val[k] for k in sorted(val)])


def default_keys() -> List[str]:
    """What is plotted without ``--keys`` (those the runs have): the loss
    and each registered task's primary metric, from the task table."""
    from had_mm.tasks import primary_metrics
    return ['loss'] + [f'{t}/{m}' for t, (m, _) in primary_metrics().items()]


def trained_task(record: dict) -> Optional[str]:
    """The task whose own loss a training record has (None: not one).

    A lifelong phase logs ``<task>.loss_*`` for its task and
    ``<old task>.loss_distill`` for the others; any task name counts, so
    that a task registered by a plug-in splits the phases as well.
    """
    tasks = {
        key.split('.', 1)[0]
        for key in record if '.loss' in key and 'distill' not in key
    }
    return tasks.pop() if len(tasks) == 1 else None


def lifelong_phases(train: Sequence[dict]) -> List[Tuple[int, int, str]]:
    """Phases of a lifelong run: ``(first iter, last iter, task)``.

    Args:
        train (Sequence[dict]): Training records, sorted.

    Returns:
        list[tuple[int, int, str]]: One entry per phase; empty when the
        run trains one task throughout or several at once.
    """
    phases: List[List] = []
    for record in train:
        task = trained_task(record)
        if task is None:
            return []  # joint training: no phases
        it = int(record['iter'])
        if phases and phases[-1][2] == task:
            phases[-1][1] = it
        else:
            phases.append([it, it, task])
    return [tuple(p) for p in phases] if len(phases) > 1 else []


def available_keys(train: Sequence[dict], val: Sequence[dict]) -> List[str]:
    """Every curve a run has, in first-logged order."""
    keys: Dict[str, None] = {}
    for record in list(train) + list(val):
        for key, value in record.items():
            if key not in NOT_CURVES and isinstance(value, (int, float)):
                keys.setdefault(key)
    return list(keys)


def select_keys(patterns: Optional[Sequence[str]],
                available: Sequence[str]) -> List[str]:
    """Resolve ``--keys`` (names or patterns) against the runs' keys.

    Args:
        patterns (Sequence[str], optional): Names or shell patterns; None
            = those of :func:`default_keys` that exist.
        available (Sequence[str]): Keys of all runs.

    Returns:
        list[str]: The keys to plot.

    Raises:
        LogError: For a key no run has (with close matches).
    """
    if not patterns:
        keys = [k for k in default_keys() if k in available]
        return keys or list(available)[:4]
    keys: List[str] = []
    for pattern in patterns:
        found = [k for k in available if fnmatch.fnmatchcase(k, pattern)]
        if not found:
            close = difflib.get_close_matches(pattern, available, n=3)
            hint = f'; did you mean {", ".join(close)}?' if close else \
                '; --list-keys prints them'
            raise LogError(f'no run logged the key "{pattern}"{hint}')
        keys += [k for k in found if k not in keys]
    return keys


def plot_runs(runs: Sequence[Tuple[str, List[dict], List[dict]]],
              keys: Sequence[str],
              out: str,
              title: Optional[str] = None) -> str:
    """Draw one panel per key and write the PNG.

    Args:
        runs (Sequence[tuple]): ``(label, train records, val records)``.
        keys (Sequence[str]): Keys to plot.
        out (str): The PNG path.
        title (str, optional): Figure title.

    Returns:
        str: ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    cols = min(len(keys), 2)
    rows = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(6.4 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[len(keys):]:
        ax.axis('off')
    iters = [
        r.get('iter', r.get('step')) for _, train, val in runs
        for r in list(train) + list(val)
    ]
    lo, hi = min(iters), max(iters)
    for ax, key in zip(axes.flat, keys):
        for i, (label, train, val) in enumerate(runs):
            colour = f'C{i}'
            xs = [r['iter'] for r in train if _finite(r.get(key))]
            if xs:
                ax.plot(
                    xs,
                    [r[key] for r in train if _finite(r.get(key))],
                    color=colour,
                    lw=1.2,
                    # one value draws no line: a marker shows it
                    marker='o' if len(xs) == 1 else None,
                    ms=4,
                    label=label)
            xs = [r['step'] for r in val if _finite(r.get(key))]
            if xs:
                ax.plot(
                    xs, [r[key] for r in val if _finite(r.get(key))],
                    'o-',
                    color=colour,
                    ms=4,
                    lw=1,
                    label=label if not any(_finite(r.get(key))
                                           for r in train) else None)
            _mark_phases(ax, lifelong_phases(train), colour, first=i == 0)
        # the whole run on every panel, so phases line up across panels
        ax.set_xlim(lo - 0.5, hi + 0.5)
        ax.set_title(key, fontsize=10, pad=14)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if len(runs) > 1:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and value == value and \
        abs(value) != float('inf')


def _mark_phases(ax, phases: List[Tuple[int, int, str]], colour: str,
                 first: bool) -> None:
    """Dashed lines between phases; the task of each on top (first run's
    labels only, so that several runs stay readable)."""
    for t, (start, end, task) in enumerate(phases):
        if t > 0:
            ax.axvline(start - 0.5, color=colour, ls='--', lw=0.8, alpha=0.7)
        if first:
            ax.text(
                (start + end) / 2,
                1.0,
                f'{t + 1}: {task}',
                transform=ax.get_xaxis_transform(),
                ha='center',
                va='bottom',
                fontsize=8)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser(
        'Plot loss and metric curves from vis_data/scalars.json')
    parser.add_argument(
        'runs',
        nargs='+',
        help='work dirs, timestamp folders or scalars.json files')
    parser.add_argument(
        '--keys',
        nargs='+',
        help='names or shell patterns of the curves (default: the loss and '
        'each task\'s primary metric, e.g. semantic/mIoU, those the runs '
        'have)')
    parser.add_argument(
        '--legend', nargs='+', help='one label per run (default: its path)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument(
        '--out', help='the PNG to write (default: <first run>/curves.png)')
    parser.add_argument(
        '--list-keys',
        action='store_true',
        help='print the keys of the runs and exit')
    args = parser.parse_args(argv)
    if args.legend and len(args.legend) != len(args.runs):
        parser.error(f'--legend needs one label per run ({len(args.runs)}), '
                     f'got {len(args.legend)}')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Run the tool; one ``error:`` line and exit status 2 on bad input."""
    args = parse_args(argv)
    try:
        runs = []
        for i, run in enumerate(args.runs):
            train, val = load_scalars(run)
            label = args.legend[i] if args.legend else run.rstrip('/')
            runs.append((label, train, val))
        available: List[str] = []
        for _, train, val in runs:
            available += [
                k for k in available_keys(train, val) if k not in available
            ]
        if args.list_keys:
            print('\n'.join(available))
            return
        keys = select_keys(args.keys, available)
        first = args.runs[0]
        out = args.out or osp.join(
            first if osp.isdir(first) else osp.dirname(first), 'curves.png')
        plot_runs(runs, keys, out, args.title)
    except (LogError, OSError) as err:
        cli.exit_error(err)
    for label, train, _ in runs:
        phases = lifelong_phases(train)
        if phases:
            print(f'{label}: phases ' + ', '.join(f'{task} (iter {a}-{b})'
                                                  for a, b, task in phases))
    print(f'wrote {out} ({len(keys)} curve(s): {", ".join(keys)})')


if __name__ == '__main__':
    main()
