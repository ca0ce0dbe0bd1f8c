"""Print a lifelong run's task matrix, forgetting and where its outputs are;
with several runs, also their final metrics and forgetting side by side.

Usage::

    python tools/analysis/lifelong_summary.py WORK_DIR
    python tools/analysis/lifelong_summary.py work_dirs/demo \\
        work_dirs/demo_finetune --names HAD fine-tune
"""
import argparse
import glob
import os.path as osp
import sys
from typing import List, Optional


def _load(work_dir: str):
    from had_mm.evaluation.lifelong_report import load_report
    path = osp.join(work_dir, 'lifelong', 'lifelong_report.json')
    if not osp.isfile(path):
        sys.exit(f'error: no lifelong report at "{path}"; was {work_dir} '
                 f'written by a LifelongTrainLoop run?')
    return path, load_report(path)


def _print_run(work_dir: str, path: str, report, name: Optional[str]) -> None:
    from had_mm.evaluation.lifelong_report import format_summary
    title = f' of {name}' if name else ''
    print(f'\nLifelong task matrix{title} (row i: after phase i; primary '
          f'metric, + higher / - lower is better)')
    print(format_summary(report))
    print(f'\nreport: {path}')
    print(f'        {path[:-len("report.json")]}task_matrix.csv, '
          f'{path[:-len("report.json")]}task_matrix.png')
    # tools/test.py --show-dir panels (see the Makefile's demo)
    panels = sorted(
        glob.glob(
            osp.join(work_dir, 'panels', 'vis_data', 'vis_image', '*.png')))
    if panels:
        print(f'prediction panels: {osp.dirname(panels[0])}/ '
              f'({len(panels)} images)')


def compare(names: List[str], reports: list) -> str:
    """Final metrics, average forgetting and BWT of several runs side by
    side, and which forgot least.

    Args:
        names (list[str]): A name per run.
        reports (list[LifelongReport]): Their reports.

    Returns:
        str: The table and a closing line.
    """
    tasks = list(reports[0].tasks)
    heads = [
        f'{t}/{m} ({"+" if d > 0 else "-"})' for t, m, d in zip(
            tasks, reports[0].metric_names, reports[0].directions)
    ]
    rows = [['run'] + heads + ['avg forgetting % (-)', 'BWT % (+)']]
    for name, report in zip(names, reports):
        final = list(report.matrix[-1]) if report.matrix else []
        by_task = dict(zip(report.tasks, final))
        rows.append([name] + [
            '-' if by_task.get(t) is None else f'{by_task[t]:.4g}'
            for t in tasks
        ] + [
            '-' if report.avg_forgetting is
            None else f'{report.avg_forgetting:.2f}', '-' if report.bwt is
            None else f'{report.bwt:.2f}'
        ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [' | '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    scored = [(r.avg_forgetting, n) for n, r in zip(names, reports)
              if r.avg_forgetting is not None]
    if len(scored) >= 2:
        scored.sort()
        (best, name), (second, other) = scored[0], scored[1]
        # one run per method is one seed: name the lower figure, never a
        # winner (the benchmarks give the verdicts, with their intervals)
        if best == second:
            lines.append(f'\n{name} and {other}: the same average '
                         f'forgetting ({best:.2f} %).')
        else:
            lines.append(f'\nLowest average forgetting in these runs: '
                         f'{name}, {best:.2f} % against {second:.2f} % for '
                         f'{other}. One run each is one seed: no verdict.')
    return '\n'.join(lines)


def main(argv=None) -> None:
    # the docstring's first paragraph, whole (its first line ends mid-way)
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument(
        'work_dirs', nargs='+', help='work dir(s) of lifelong runs')
    parser.add_argument(
        '--names', nargs='+', help='a name per run (default: the work dirs)')
    args = parser.parse_args(argv)
    if args.names and len(args.names) != len(args.work_dirs):
        parser.error(f'--names needs one name per work dir '
                     f'({len(args.work_dirs)}), got {len(args.names)}')
    names = args.names or [d.rstrip('/') for d in args.work_dirs]
    loaded = [_load(d) for d in args.work_dirs]
    several = len(loaded) > 1
    for work_dir, (path, report), name in zip(args.work_dirs, loaded, names):
        _print_run(work_dir, path, report, name if several else None)
    if several:
        if len({tuple(r.tasks) for _, r in loaded}) > 1:
            sys.exit('error: the runs learnt other task sequences: ' +
                     '; '.join(f'{n}: {list(r.tasks)}'
                               for n, (_, r) in zip(names, loaded)))
        print('\nAfter the last phase, side by side:')
        print(compare(names, [r for _, r in loaded]))


if __name__ == '__main__':
    main()
