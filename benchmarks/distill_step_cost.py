"""Training-step cost of distillation relative to the student alone.

Builds the student of a ``configs/heteroakd`` pair from its plain config and
the same student wrapped by the logit KD, CWD and HeteroAKD distillers (the
teacher from its config, with a random-init checkpoint written to a temporary
directory), then times full training steps (``model.train_step``: data
preprocessing, forward of student and frozen teacher, losses, backward, SGD
update) on random images, all in one process with the variants interleaved
round by round, and prints the median (and minimum) step time of each and
its ratio to the student alone. On a shared machine the minimum is the less
noisy estimate.

Example (CPU, small size)::

    python benchmarks/distill_step_cost.py --pair mit-b0_to_r18-d8 \\
        --batch 2 --size 64 64 --steps 15 --threads 2
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Dict, List, Optional

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLAIN = {
    'mit-b0': 'segformer_mit-b0',
    'r18-d8': 'deeplabv3_r18-d8',
    'convnext-atto': 'upernet_convnext-atto',
}
DS = 'synthetic-rooms-seg'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pair', default='mit-b0_to_r18-d8')
    parser.add_argument(
        '--methods',
        nargs='+',
        default=['student', 'kd', 'cwd', 'heteroakd'],
        choices=['student', 'kd', 'cwd', 'heteroakd'])
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument(
        '--size', type=int, nargs=2, default=[64, 64], metavar=('H', 'W'))
    parser.add_argument('--steps', type=int, default=15)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def _batch(b_size: int, size: List[int], num_classes: int, seed: int = 0):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(b_size):
        inputs.append(
            torch.randint(
                0, 256, (3, *size), generator=gen, dtype=torch.uint8))
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, *size), generator=gen))
        sample.set_metainfo(dict(img_shape=tuple(size), ori_shape=tuple(size)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build_models(args: argparse.Namespace, tmp: str) -> Dict[str, tuple]:
    """``method -> (model, optim_wrapper)``, teacher checkpoint in tmp."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from had_mm.registry import MODELS
    init_default_scope('had_mm')
    t_key, s_key = args.pair.split('_to_')
    cfg_dir = osp.join(REPO, 'configs', 'heteroakd')
    teacher_cfg = osp.join(cfg_dir, f'{PLAIN[t_key]}_{DS}.py')
    ckpt = osp.join(tmp, 'teacher.pth')
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(teacher_cfg).model)
    torch.save({'state_dict': teacher.state_dict()}, ckpt)
    del teacher
    models = {}
    for method in args.methods:
        if method == 'student':
            path = osp.join(cfg_dir, f'{PLAIN[s_key]}_{DS}.py')
            model_cfg = Config.fromfile(path).model
        else:
            path = osp.join(cfg_dir, f'{method}_{args.pair}_{DS}.py')
            model_cfg = Config.fromfile(path).model
            model_cfg.teacher_ckpt = ckpt
        torch.manual_seed(0)
        model = MODELS.build(model_cfg).to(args.device).train()
        optim = build_optim_wrapper(
            model,
            dict(
                type='OptimWrapper',
                optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
        models[method] = (model, optim)
    return models


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    sys.path.insert(0, REPO)
    if args.threads:
        torch.set_num_threads(args.threads)
    import had_mm  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp:
        models = build_models(args, tmp)
        num_classes = 13  # synthetic rooms
        data = _batch(args.batch, args.size, num_classes)
        times: Dict[str, List[float]] = {m: [] for m in models}
        for step in range(args.warmup + args.steps):
            for method, (model, optim) in models.items():
                if args.device.startswith('cuda'):
                    torch.cuda.synchronize()
                start = time.perf_counter()
                model.train_step(data, optim)
                if args.device.startswith('cuda'):
                    torch.cuda.synchronize()
                if step >= args.warmup:
                    times[method].append(time.perf_counter() - start)
    base = statistics.median(times['student']) if 'student' in times \
        else None
    base_min = min(times['student']) if 'student' in times else None
    print(f'pair {args.pair}, batch {args.batch}, size '
          f'{args.size[0]}x{args.size[1]}, device {args.device}, threads '
          f'{torch.get_num_threads()}, {args.steps} timed steps '
          f'(+{args.warmup} warm-up), variants interleaved')
    print(f'{"method":<10} {"median ms":>10} {"ratio":>6} {"min ms":>8} '
          f'{"ratio":>6}')
    for method, values in times.items():
        med, low = statistics.median(values), min(values)
        ratio = f'{med / base:.2f}' if base else '-'
        ratio_min = f'{low / base_min:.2f}' if base_min else '-'
        print(f'{method:<10} {med * 1e3:>10.1f} {ratio:>6} {low * 1e3:>8.1f} '
              f'{ratio_min:>6}')


if __name__ == '__main__':
    main()
