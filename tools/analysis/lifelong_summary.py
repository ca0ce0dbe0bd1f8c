"""Print a lifelong run's task matrix, forgetting and where its outputs are.

Usage: python tools/analysis/lifelong_summary.py WORK_DIR
"""
import argparse
import glob
import os.path as osp
import sys


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='work dir of a lifelong run')
    args = parser.parse_args(argv)
    from had_mm.evaluation.lifelong_report import format_summary, load_report
    path = osp.join(args.work_dir, 'lifelong', 'lifelong_report.json')
    if not osp.isfile(path):
        sys.exit(f'error: no lifelong report at "{path}"; was {args.work_dir} '
                 f'written by a LifelongTrainLoop run?')
    report = load_report(path)
    print('\nLifelong task matrix (row i: after phase i; primary metric, '
          '+ higher / - lower is better)')
    print(format_summary(report))
    print(f'\nreport: {path}')
    print(f'        {path[:-len("report.json")]}task_matrix.csv, '
          f'{path[:-len("report.json")]}task_matrix.png')
    # tools/test.py --show-dir panels (see the Makefile's demo)
    panels = sorted(
        glob.glob(
            osp.join(args.work_dir, 'panels', 'vis_data', 'vis_image',
                     '*.png')))
    if panels:
        print(f'prediction panels: {osp.dirname(panels[0])}/ '
              f'({len(panels)} images)')


if __name__ == '__main__':
    main()
