"""Compare lifelong methods on synthetic rooms: fine-tuning, LwF, HAD and
HAD's DB-only / SG-only ablations, over several seeds.

Each method runs the 4-task sequence (semantic -> depth -> normal ->
saliency) with tools/train.py; single-task references (same chunk, same
iterations) give Delta_m. Writes a table (Markdown + CSV + JSON) to
--work-dir and prints it. Runs that already have a report are reused, so
an interrupted benchmark continues where it stopped.

Example (about 8 CPU-minutes per method run at the default 100 iterations
per phase):
    python benchmarks/lifelong_methods.py --seeds 0 1 --work-dir \
        work_dirs/bench_lifelong
"""
import argparse
import csv
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TASKS = ('semantic', 'depth', 'normal', 'saliency')
METHODS = {
    'fine-tune':
    'configs/had/synthetic_4tasks_finetune.py',
    'LwF':
    'configs/had/synthetic_4tasks_lwf.py',
    'HAD':
    'configs/had/synthetic_4tasks.py',
    'HAD (DB only)':
    'configs/had/synthetic_4tasks_db-only.py',
    'HAD (SG only)':
    'configs/had/synthetic_4tasks_sg-only.py',
    'HAD (MiT-b0 teacher)':
    'configs/had/synthetic_4tasks_hetero-teacher-mit-b0.py',
}
# methods that need --hetero-teacher-ckpt (not run by default)
HETERO = ('HAD (MiT-b0 teacher)', )


def run(config: str,
        work_dir: str,
        seed: int,
        iters: int,
        num_phases: int,
        extra: tuple = ()) -> dict:
    report = osp.join(work_dir, 'lifelong', 'lifelong_report.json')
    if not osp.isfile(report):
        opts = [f'randomness.seed={seed}', 'train_cfg.progress_bar=False']
        opts += [
            f'train_cfg.phases.{i}.max_iters={iters}'
            for i in range(num_phases)
        ] + list(extra)
        cmd = [
            sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
            '--cfg-options', *opts
        ]
        print(' '.join(cmd), flush=True)
        log = open(osp.join(work_dir + '.log'), 'w')
        proc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=log)
        if proc.returncode != 0:
            sys.exit(f'error: run failed, see {work_dir}.log')
    with open(report) as f:
        return json.load(f)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument(
        '--iters', type=int, default=100, help='iterations per phase')
    parser.add_argument(
        '--methods',
        nargs='+',
        default=[m for m in METHODS if m not in HETERO],
        choices=list(METHODS))
    parser.add_argument(
        '--hetero-teacher-ckpt',
        help='checkpoint of the SegFormer (MiT-b0) teacher of '
        f'{HETERO[0]!r} (python tools/train.py '
        'configs/heteroakd/segformer_mit-b0_synthetic-rooms-seg.py)')
    parser.add_argument('--work-dir', default='work_dirs/bench_lifelong')
    args = parser.parse_args(argv)
    if any(m in HETERO for m in args.methods) and \
            not args.hetero_teacher_ckpt:
        parser.error(f'{HETERO[0]!r} needs --hetero-teacher-ckpt')
    os.makedirs(args.work_dir, exist_ok=True)
    from had_mm.evaluation.lifelong_report import build_report

    rows = []
    for seed in args.seeds:
        ref = {}
        for i, task in enumerate(TASKS):
            rep = run(f'configs/had/synthetic_4tasks_single-{task}.py',
                      osp.join(args.work_dir, f'single-{task}_s{seed}'), seed,
                      args.iters, 1)
            ref[task] = rep['matrix'][-1][0]
        for method in args.methods:
            name = method.replace(' ', '').replace('(', '_').replace(')', '')
            extra = ((f'train_cfg.teacher.teacher_ckpt='
                      f'{args.hetero_teacher_ckpt}', ) if method in HETERO else
                     ())
            rep = run(METHODS[method],
                      osp.join(args.work_dir, f'{name}_s{seed}'), seed,
                      args.iters, len(TASKS), extra)
            full = build_report(rep['tasks'], rep['matrix'], reference=ref)
            rows.append(
                dict(
                    method=method,
                    seed=seed,
                    **{
                        t: full.matrix[-1][j]
                        for j, t in enumerate(TASKS)
                    },
                    avg_forgetting=full.avg_forgetting,
                    bwt=full.bwt,
                    delta_m=full.delta_m,
                    **{f'ref_{t}': ref[t]
                       for t in TASKS}))
    cols = list(TASKS) + ['avg_forgetting', 'bwt', 'delta_m']
    with open(osp.join(args.work_dir, 'runs.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        '| method | semantic mIoU % (+) | depth abs err m (-) | normal mean '
        'angle deg (-) | saliency maxF % (+) | avg forgetting % (-) | BWT % '
        '(+) | Delta_m % (+) |', '|---' * 8 + '|'
    ]
    summary = {}
    for method in args.methods:
        mine = [r for r in rows if r['method'] == method]
        cells = []
        for col in cols:
            vals = np.array([r[col] for r in mine], dtype=float)
            summary.setdefault(method, {})[col] = (float(vals.mean()),
                                                   float(vals.std()))
            cells.append(f'{vals.mean():.3g} ± {vals.std():.2g}')
        lines.append(f'| {method} | ' + ' | '.join(cells) + ' |')
    table = '\n'.join(lines)
    refs = {t: float(np.mean([r[f'ref_{t}'] for r in rows])) for t in TASKS}
    table += ('\n\nsingle-task references (mean over seeds): ' +
              ', '.join(f'{t} {v:.4g}' for t, v in refs.items()))
    table += (f'\n{len(args.seeds)} seeds ({args.seeds}), {args.iters} '
              f'iterations per phase; mean ± std over seeds.')
    with open(osp.join(args.work_dir, 'table.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
        json.dump(
            dict(summary=summary, references=refs, runs=rows), f, indent=2)
    print(table)


if __name__ == '__main__':
    main()
