"""Student alone vs logit KD vs KDP on the procedural shapes, over seeds.

Runs the tiny configs ``tiny-vit_procedural_<learner>_<method>.py``
(methods ``alone``, ``kd``, ``kdp`` by default; also ``dkd``, ``fitnets``,
``reviewkd`` and ``kdp-capacity``, KDP's capacity control; tiny ViT-B ->
tiny ViT-S, pre-trained by ``pretrain_tiny_vit.py``) once per seed, each
seed changing the class order, the initialisation and the data order, and
prints a markdown table of the student's final average
accuracy and forgetting (mean +- std over seeds), with the teacher's final
average accuracy for the distilled runs. Each run also leaves its report
in ``<out-dir>/<learner>_<method>_seed<s>/continual/``.

Usage (from the repo root, one CPU thread)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python projects/kdp/tools/experiment.py \
        --learners coda --seeds 0 1 2
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List

import numpy as np

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = osp.join(REPO, 'projects', 'kdp', 'configs')
METHODS = ('alone', 'kd', 'kdp', 'dkd', 'fitnets', 'reviewkd', 'kdp-capacity')
NAMES = dict(
    alone='student alone',
    kd='logit KD',
    kdp='KDP',
    dkd='DKD',
    fitnets='FitNets',
    reviewkd='ReviewKD',
    **{'kdp-capacity': 'KD prompts, no KD (capacity control)'})
#: The methods run when ``--methods`` is not given.
DEFAULT_METHODS = ('alone', 'kd', 'kdp')
LEARNERS = dict(l2p='L2P', dualprompt='DualPrompt', coda='CODA-Prompt')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--learners', nargs='+', default=['coda'], choices=list(LEARNERS))
    parser.add_argument(
        '--methods', nargs='+', default=list(DEFAULT_METHODS), choices=METHODS)
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--out-dir', default='work_dirs/kdp_experiment')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides for every run')
    parser.add_argument('--threads', type=int, default=1)
    return parser.parse_args(argv)


def run_one(config: str, work_dir: str, seed: int, extra: List[str]) -> dict:
    """Train one config with one seed; return its continual report.

    Args:
        config (str): Config path.
        work_dir (str): Its work dir.
        seed (int): Seed of the run and of the class order.
        extra (list[str]): More ``key=value`` overrides.

    Returns:
        dict: ``continual_report.json`` of the run.
    """
    from mmengine.config import DictAction

    from had_mm.apis import build_runner, load_tool_config
    options = [
        f'randomness.seed={seed}',
        f'train_dataloader.dataset.class_order_seed={seed}',
        f'val_dataloader.dataset.class_order_seed={seed}',
        f'test_dataloader.dataset.class_order_seed={seed}',
        'default_hooks.logger.interval=1000',
    ] + list(extra)
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    cfg_options = parser.parse_args(['--o'] + options).o
    cfg = load_tool_config(config, cfg_options, work_dir)
    runner = build_runner(cfg, for_training=True)
    runner.train()
    with open(osp.join(work_dir, 'continual', 'continual_report.json')) as f:
        return json.load(f)


def _fmt(values: List[float]) -> str:
    """``mean +- std`` (population std over seeds)."""
    if not values:
        return '-'
    return f'{np.mean(values):.2f} ± {np.std(values):.2f}'


def make_table(results: Dict[str, Dict[str, List[dict]]],
               seeds: List[int]) -> str:
    """The markdown table of the results.

    Args:
        results (dict): ``{learner: {method: [report per seed]}}``.
        seeds (list[int]): The seeds.

    Returns:
        str: The table.
    """
    lines = [
        '| learner | method | student final avg acc (%) | student '
        'forgetting (%) | teacher final avg acc (%) | seeds |',
        '|---|---|---|---|---|---|',
    ]
    for learner, per_method in results.items():
        for method, reports in per_method.items():
            acc = [r['student']['average_accuracy'] for r in reports]
            fgt = [r['student']['forgetting'] for r in reports]
            teacher = [
                r['teacher']['average_accuracy'] for r in reports
                if r.get('teacher')
            ]
            lines.append(f'| {LEARNERS[learner]} | {NAMES[method]} | '
                         f'{_fmt(acc)} | {_fmt(fgt)} | {_fmt(teacher)} | '
                         f'{len(reports)} ({", ".join(map(str, seeds))}) |')
    return '\n'.join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))
    import torch
    torch.set_num_threads(args.threads)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    results: Dict[str, Dict[str, List[dict]]] = {}
    timings = {}
    start = time.time()
    for learner in args.learners:
        results[learner] = {}
        for method in args.methods:
            config = osp.join(CONFIGS,
                              f'tiny-vit_procedural_{learner}_{method}.py')
            results[learner][method] = []
            for seed in args.seeds:
                work_dir = osp.join(args.out_dir,
                                    f'{learner}_{method}_seed{seed}')
                t0 = time.time()
                report = run_one(config, work_dir, seed, args.cfg_options)
                timings[f'{learner}_{method}_seed{seed}'] = time.time() - t0
                results[learner][method].append(report)
                s = report['student']
                print(
                    f'== {learner} {method} seed {seed}: student acc '
                    f'{s["average_accuracy"]:.2f} forgetting '
                    f'{s["forgetting"]:.2f} '
                    f'({timings[f"{learner}_{method}_seed{seed}"]:.0f} s)',
                    flush=True)
    table = make_table(results, args.seeds)
    total = time.time() - start
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'results.md'), 'w') as f:
        f.write(table + f'\n\nwall time {total:.0f} s\n')
    with open(osp.join(args.out_dir, 'results.json'), 'w') as f:
        json.dump(
            dict(
                results={
                    lr: {
                        m: [
                            dict(
                                student=r['student'], teacher=r.get('teacher'))
                            for r in reps
                        ]
                        for m, reps in per.items()
                    }
                    for lr, per in results.items()
                },
                seconds=timings,
                total_seconds=total),
            f,
            indent=2)
    print('\n' + table)
    print(f'\nwall time {total:.0f} s ({total / 60:.1f} min)')


if __name__ == '__main__':
    main()
