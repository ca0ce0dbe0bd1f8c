"""Cost of a lifelong (HAD) training step, measured side by side.

In one process, on the same backbone, heads, image size and batch, times
(interleaved, median over repetitions):

- A: a plain mmseg ``EncoderDecoder`` training step for one task (the
  familiar anchor),
- B_t: the floor of phase t, from the same modules and no had_mm machinery:
  student forward + backward through the backbone and its t heads plus one
  no-grad teacher forward (backbone + t-1 heads), trivial per-pixel losses,
- C_t: had_mm's lifelong iteration at phase t (``train_step`` of the
  predictor with HAD on t-1 old heads),
- D / D0: the HAD loss alone (forward + backward) per task type, and the
  plain per-pixel distillation loss on the same maps,

and prints the medians, C_t/B_t, C_t/A, D/A, (D - D0)/A and peak memory.
Timings on a GPU are CUDA-synchronised.

    python benchmarks/lifelong_step_cost.py                 # small CPU size
    python benchmarks/lifelong_step_cost.py --reference     # 288x384, batch 8
    python benchmarks/lifelong_step_cost.py --short         # smoke test
"""
import argparse
import copy
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

TASKS = ('semantic', 'depth', 'normal', 'saliency')


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def _batch(n, h, w, num_classes, device):
    from had_mm.datasets.transforms import PackMultiTaskInputs
    rng = np.random.default_rng(0)
    items = []
    for _ in range(n):
        normal = rng.normal(size=(h, w, 3)).astype(np.float32)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        items.append(PackMultiTaskInputs().transform(
            dict(
                img=rng.integers(0, 255, (h, w, 3), dtype=np.uint8),
                img_shape=(h, w),
                ori_shape=(h, w),
                gt_seg_map=rng.integers(0, num_classes,
                                        (h, w)).astype(np.uint8),
                gt_depth_map=rng.uniform(0.5, 8, (h, w)).astype(np.float32),
                gt_normal=normal,
                gt_saliency=rng.integers(0, 2, (h, w)).astype(np.uint8))))
    return dict(
        inputs=[i['inputs'] for i in items],
        data_samples=[i['data_samples'] for i in items])


def _only(batch, task):
    """The batch with the labels of ``task`` only (a phase's data)."""
    from had_mm.models.predictors.heterogeneous_dense_predictor import \
        GT_FIELDS
    out = copy.deepcopy(batch)
    for sample in out['data_samples']:
        for t, field in GT_FIELDS.items():
            if t != task and field in sample:
                delattr(sample, field)
    return out


def build(cfg, device):
    from had_mm.registry import MODELS
    model = MODELS.build(cfg.model).to(device).train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, optim


def make_variants(cfg, args, device):
    from had_mm.registry import MODELS
    h, w = args.size
    num_classes = cfg.model.heads.semantic.num_classes
    batch = _batch(args.batch, h, w, num_classes, device)
    variants = {}

    # A: plain mmseg EncoderDecoder, same backbone + semantic head
    seg_cfg = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size_divisor=8),
        backbone=copy.deepcopy(cfg.model.backbone),
        decode_head=copy.deepcopy(cfg.model.heads.semantic))
    seg = MODELS.build(seg_cfg).to(device).train()
    seg_optim = build_optim_wrapper(seg, cfg.optim_wrapper)
    seg_batch = _only(batch, 'semantic')
    variants['A'] = lambda: seg.train_step(seg_batch, seg_optim)

    model, optim = build(cfg, device)
    teacher = copy.deepcopy(model).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    x = data['inputs']

    for t in range(2, len(TASKS) + 1):
        seen = TASKS[:t]

        def floor(seen=seen):
            # student: backbone once, t heads, trivial per-pixel losses
            feats = model.extract_feat(x)
            loss = 0
            for task in seen:
                out = F.interpolate(
                    model.heads[task](feats),
                    size=x.shape[2:],
                    mode='bilinear')
                loss = loss + out.float().square().mean()
            with torch.no_grad():
                t_feats = teacher.extract_feat(x)
                for task in seen[:-1]:
                    F.interpolate(
                        teacher.heads[task](t_feats),
                        size=x.shape[2:],
                        mode='bilinear')
            optim.update_params(loss)

        variants[f'B_{t}'] = floor

        phase_batch = _only(batch, seen[-1])
        losses = {
            task: MODELS.build(dict(type='HADLoss', task=task))
            for task in seen[:-1]
        }

        def lifelong(phase_batch=phase_batch, losses=losses):
            model.set_distillation(teacher, losses, 3.0)
            model.train_step(phase_batch, optim)
            model.clear_distillation()

        variants[f'C_{t}'] = lifelong

    # D / D0 per task type on the maps of one batch
    channels = dict(semantic=num_classes, depth=1, normal=3, saliency=1)
    for task in TASKS:
        shape = (args.batch, channels[task], h, w)
        s_map = torch.randn(shape, device=device, requires_grad=True)
        t_map = torch.randn(shape, device=device)
        if task == 'depth':
            t_map = t_map.abs() + 0.5
        had = MODELS.build(dict(type='HADLoss', task=task))
        plain = MODELS.build(dict(type='PixelDistillLoss', task=task))

        def run_loss(fn, s_map=s_map, t_map=t_map, task=task):
            src = s_map.abs() + 0.5 if task == 'depth' else s_map
            fn(src, t_map).backward()

        variants[f'D_{task}'] = (lambda f=had, r=run_loss: r(f))
        variants[f'D0_{task}'] = (lambda f=plain, r=run_loss: r(f))
    return variants


def measure(variants, reps, warmup, device):
    times = {k: [] for k in variants}
    for _ in range(warmup):
        for fn in variants.values():
            fn()
    for _ in range(reps):
        for name, fn in variants.items():  # interleaved: same conditions
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--config',
        default='configs/had/synthetic_4tasks.py',
        help='model and optimizer of this config')
    parser.add_argument('--size', type=int, nargs=2, default=[96, 128])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--reps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--reference',
        action='store_true',
        help='the HAD reference model at 288x384, batch 8')
    parser.add_argument(
        '--short', action='store_true', help='a quick smoke run')
    parser.add_argument('--device', default=None)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if args.reference:
        args.config = 'configs/had/nyuv2_4tasks.py'
        args.size, args.batch = [288, 384], 8
    if args.short:
        args.size, args.batch, args.reps, args.warmup = [32, 40], 2, 2, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(
        args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    import had_mm  # noqa: F401
    init_default_scope('had_mm')
    cfg = Config.fromfile(args.config)
    if args.short:
        small = dict(channels=8)
        cfg.model.backbone.update(stem_channels=8, base_channels=4)
        for task in TASKS:
            head = cfg.model.heads[task]
            (head if task == 'semantic' else head.body).update(
                small, in_channels=32)
    torch.manual_seed(0)
    variants = make_variants(cfg, args, device)
    med = measure(variants, args.reps, args.warmup, device)
    a = med['A']
    print(f'device {device}, {args.size[0]}x{args.size[1]}, batch '
          f'{args.batch}, {args.reps} reps (medians, ms)')
    print('| variant | median ms | ratio |')
    print('|---|---|---|')
    print(f'| A (mmseg EncoderDecoder, 1 task) | {a * 1e3:.1f} | 1 |')
    for t in range(2, len(TASKS) + 1):
        b, c = med[f'B_{t}'], med[f'C_{t}']
        print(f'| B_{t} (floor, phase {t}) | {b * 1e3:.1f} | '
              f'B/A {b / a:.3f} |')
        print(f'| C_{t} (had_mm, phase {t}) | {c * 1e3:.1f} | '
              f'C/B {c / b:.3f}, C/A {c / a:.3f} |')
    for task in TASKS:
        d, d0 = med[f'D_{task}'], med[f'D0_{task}']
        print(f'| D {task} (HAD loss) | {d * 1e3:.2f} | D/A {d / a:.4f}, '
              f'(D-D0)/A {(d - d0) / a:.4f} |')
    if device.type == 'cuda':
        print(f'peak GPU memory: '
              f'{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB')
    else:
        import resource
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f'peak process memory (RSS): {rss:.0f} MiB')


if __name__ == '__main__':
    main()
