"""Compare the student alone, logit KD, CWD and HeteroAKD on synthetic rooms.

For every teacher -> student pair the teacher is trained once (seed 0) from
its own config, then for every seed the student is trained alone (its plain
config) and distilled with the KD, CWD and HeteroAKD configs of
``configs/heteroakd/``, all with tools/train.py and the same schedule. The
final validation mIoU of every run is read from its log and a table (mean
+- std over seeds, teacher mIoU beside) is printed and written as Markdown
and JSON to --work-dir. Runs that already finished are reused, so an
interrupted benchmark continues where it stopped.

Examples::

    # the full comparison (2 pairs x 3 seeds x 4 methods + 2 teachers)
    python benchmarks/heteroakd_synthetic.py --seeds 0 1 2 --iters 1000

    # a smoke test: 2 iterations on a tiny generated set
    python benchmarks/heteroakd_synthetic.py --quick
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = 'configs/heteroakd'
DS = 'synthetic-rooms-seg'
PLAIN = {
    'mit-b0': 'segformer_mit-b0',
    'r18-d8': 'deeplabv3_r18-d8',
    'convnext-atto': 'upernet_convnext-atto',
}
METHODS = ('student', 'kd', 'cwd', 'heteroakd')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--pairs',
        nargs='+',
        default=['mit-b0_to_r18-d8', 'r18-d8_to_mit-b0'],
        help='teacher_to_student pairs (names of configs/heteroakd/)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument(
        '--methods', nargs='+', default=list(METHODS), choices=METHODS)
    parser.add_argument(
        '--iters', type=int, default=1000, help='iterations of every run')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='train batch size of every run (default: the configs\' 8)')
    parser.add_argument('--data-root', default='data/synthetic_rooms')
    parser.add_argument('--work-dir', default='work_dirs/bench_heteroakd')
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='train nothing: tabulate the runs of --work-dir that finished '
        '(a cell gives its number of seeds when some are missing)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='2 iterations, seed 0, batch 2, on a tiny generated data set '
        '(checks that everything runs; the numbers mean nothing)')
    args = parser.parse_args(argv)
    if args.quick:
        args.iters, args.seeds = 2, [0]
        args.work_dir = args.work_dir.rstrip('/') + '_quick'
        args.data_root = osp.join(args.work_dir, 'data')
    return args


def _opts(args: argparse.Namespace, seed: int) -> List[str]:
    it = args.iters
    opts = [
        f'randomness.seed={seed}', f'train_cfg.max_iters={it}',
        f'train_cfg.val_interval={it}',
        f'default_hooks.checkpoint.interval={it}',
        f'default_hooks.logger.interval={min(50, it)}',
        f'param_scheduler.0.end={it}'
    ]
    if args.batch_size:
        opts.append(f'train_dataloader.batch_size={args.batch_size}')
    for split in ('train', 'val', 'test'):
        opts.append(f'{split}_dataloader.dataset.data_root={args.data_root}')
    if args.quick:
        opts += [
            'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False'
        ]
    return opts


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


def train(config: str,
          work_dir: str,
          opts: List[str],
          iters: int,
          report_only: bool = False) -> Optional[Dict[str, float]]:
    """Run tools/train.py unless ``work_dir`` holds a finished run (with
    ``report_only``: None for a run that did not finish)."""
    done = osp.isfile(osp.join(work_dir, f'iter_{iters}.pth'))
    metrics = last_metrics(work_dir) if done else None
    if metrics is None and report_only:
        return None
    if metrics is None:
        os.makedirs(work_dir, exist_ok=True)
        cmd = [
            sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
            '--cfg-options', *opts
        ]
        print(' '.join(cmd), flush=True)
        with open(work_dir.rstrip('/') + '.log', 'w') as log:
            proc = subprocess.run(
                cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            sys.exit(f'error: {config} failed; see {work_dir}.log')
        metrics = last_metrics(work_dir)
        if metrics is None:
            sys.exit(f'error: no validation metrics in {work_dir}')
    return metrics


def _mean_std(values: List[float], num_seeds: int) -> str:
    if not values:
        return '-'
    mean = sum(values) / len(values)
    std = (sum((v - mean)**2 for v in values) / len(values))**0.5
    cell = f'{mean:.2f} +- {std:.2f}' if len(values) > 1 else f'{mean:.2f}'
    return cell if len(values) == num_seeds else f'{cell} (n={len(values)})'


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    os.chdir(REPO)
    if args.quick and not osp.isdir(osp.join(args.data_root, 'image')):
        sys.path.insert(0, REPO)
        from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
        generate_synthetic_rooms(args.data_root, num=16, size=(32, 40), seed=0)
    if not osp.isdir(osp.join(args.data_root, 'image')):
        sys.exit(f'error: no data at {args.data_root}; run `python '
                 f'tools/data/make_synthetic_rooms.py --out '
                 f'{args.data_root}` first')
    results: Dict[str, dict] = {}

    def run(config: str, seed: int, *opts: str) -> Dict[str, float]:
        # one work dir per (config, seed): a teacher that is also a
        # student-alone baseline (same config, seed 0) is trained once
        stem = osp.splitext(osp.basename(config))[0]
        work = osp.join(args.work_dir, f'{stem}_seed{seed}')
        return train(config, work,
                     _opts(args, seed) + list(opts), args.iters,
                     args.report_only)

    for pair in args.pairs:
        t_key, s_key = pair.split('_to_')
        teacher_cfg = f'{CONFIGS}/{PLAIN[t_key]}_{DS}.py'
        teacher = run(teacher_cfg, 0)
        if teacher is None:
            continue  # --report-only and no teacher yet
        stem = osp.splitext(osp.basename(teacher_cfg))[0]
        ckpt = osp.join(args.work_dir, f'{stem}_seed0',
                        f'iter_{args.iters}.pth')
        rows = results[pair] = dict(teacher=teacher['mIoU'])
        for method in args.methods:
            scores = []
            for seed in args.seeds:
                if method == 'student':
                    metrics = run(f'{CONFIGS}/{PLAIN[s_key]}_{DS}.py', seed)
                else:
                    metrics = run(f'{CONFIGS}/{method}_{pair}_{DS}.py', seed,
                                  f'model.teacher_ckpt={ckpt}')
                if metrics is not None:
                    scores.append(metrics['mIoU'])
            rows[method] = scores
    title = (f'HeteroAKD on synthetic rooms: mIoU after {args.iters} '
             f'iterations (batch {args.batch_size or 8}), seeds {args.seeds}')
    header = ' | '.join(['pair (teacher -> student)', 'teacher'] +
                        list(args.methods))
    lines = [
        title, '', f'| {header} |', '|---' * (2 + len(args.methods)) + '|'
    ]
    for pair, rows in results.items():
        cells = [_mean_std(rows[m], len(args.seeds)) for m in args.methods]
        lines.append(f'| {pair.replace("_to_", " -> ")} | '
                     f'{rows["teacher"]:.2f} | ' + ' | '.join(cells) + ' |')
    table = '\n'.join(lines)
    print(table)
    with open(osp.join(args.work_dir, 'heteroakd_synthetic.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.work_dir, 'heteroakd_synthetic.json'), 'w') as f:
        summary = dict(iters=args.iters, seeds=args.seeds, results=results)
        json.dump(summary, f, indent=2)


if __name__ == '__main__':
    main()
