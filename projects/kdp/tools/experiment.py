"""Ad-hoc runs of the tiny procedural configs over seeds, in one process.

Runs the tiny configs ``<learner>-<method>_tiny-vit_procedural.py``
(methods ``alone``, ``kd``, ``kdp`` by default; also ``dkd``, ``fitnets``,
``reviewkd`` and ``kdp-capacity``, KDP's capacity control; tiny ViT-B ->
tiny ViT-S, pre-trained by ``pretrain_tiny_vit.py``) once per seed, each
seed changing the class order, the initialisation and the data order, and
prints a markdown table of the student's final average accuracy and
forgetting (mean ± 95 % CI over the seeds), with the teacher's final
average accuracy for the distilled runs. Each run also leaves its report
in ``<out-dir>/<learner>_<method>_seed<s>/continual/``.

The seeds, the configs and the table are those of the benchmark
``projects/kdp/benchmarks/procedural.py``, which runs the fixed grid
(parallel jobs, reuse of finished runs, paired differences, committed
results); this tool is for quick looks at any method.

Usage (from the repo root, one CPU thread)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python projects/kdp/tools/experiment.py \
        --learners coda --seeds 0 1 2
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Dict, List

from projects.kdp.benchmarks.procedural import (LEARNERS, NAMES, config_path,
                                                seed_options, summary_table)

#: Every method with a tiny config.
METHODS = tuple(NAMES)
#: The methods run when ``--methods`` is not given.
DEFAULT_METHODS = ('alone', 'kd', 'kdp')


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
    options = seed_options(seed) + ['default_hooks.logger.interval=1000']
    options += list(extra)
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    cfg_options = parser.parse_args(['--o'] + options).o
    cfg = load_tool_config(config, cfg_options, work_dir)
    runner = build_runner(cfg, for_training=True)
    runner.train()
    with open(osp.join(work_dir, 'continual', 'continual_report.json')) as f:
        return json.load(f)


def make_table(results: Dict[str, Dict[str, List[dict]]]) -> str:
    """The markdown table of the results (the benchmark's table).

    Args:
        results (dict): ``{learner: {method: [report per seed]}}``, the
            reports in seed order.

    Returns:
        str: The table: mean ± 95 % CI over the seeds.
    """
    rows = []
    for learner, per_method in results.items():
        for method, reports in per_method.items():
            for i, report in enumerate(reports):
                teacher = report.get('teacher')
                rows.append(
                    dict(
                        learner=learner,
                        method=method,
                        seed=report.get('seed', i),
                        final_avg_acc=report['student']['average_accuracy'],
                        forgetting=report['student']['forgetting'],
                        teacher_final_avg_acc=teacher['average_accuracy']
                        if teacher else None))
    methods = [m for m in METHODS if any(m in v for v in results.values())]
    return summary_table(rows, list(results), methods)


def main(argv=None) -> None:
    args = parse_args(argv)
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))
    import torch
    torch.set_num_threads(args.threads)
    results: Dict[str, Dict[str, List[dict]]] = {}
    timings = {}
    start = time.time()
    for learner in args.learners:
        results[learner] = {}
        for method in args.methods:
            config = config_path(learner, method)
            results[learner][method] = []
            for seed in args.seeds:
                work_dir = osp.join(args.out_dir,
                                    f'{learner}_{method}_seed{seed}')
                t0 = time.time()
                report = run_one(config, work_dir, seed, args.cfg_options)
                report['seed'] = seed
                timings[f'{learner}_{method}_seed{seed}'] = time.time() - t0
                results[learner][method].append(report)
                s = report['student']
                print(
                    f'== {learner} {method} seed {seed}: student acc '
                    f'{s["average_accuracy"]:.2f} forgetting '
                    f'{s["forgetting"]:.2f} '
                    f'({timings[f"{learner}_{method}_seed{seed}"]:.0f} s)',
                    flush=True)
    table = make_table(results)
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
