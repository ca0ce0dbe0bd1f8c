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
- P_t: C_t with the pseudo-label cache (teacher outputs computed once per
  phase, looked up per iteration; with a config that zooms, as the NYUv2
  ones, the samples carry scale-crops and flips that the look-up follows),
- D / D0: the HAD loss alone (forward + backward) per task type, and the
  plain per-pixel distillation loss on the same maps (semantic also with
  40 classes),

and prints the medians, C_t/B_t, C_t/A, P_t/A, D/A, (D - D0)/A, D/D0 and
peak memory, and D against the authors' released loss code (the figures of
:data:`AUTHORS_MS`, at 288x384, batch 8). Timings on a GPU are
CUDA-synchronised.

``--amp`` and ``--channels-last`` add A, B_t and C_t in those modes (mixed
precision: bfloat16 autocast on a CPU with AMX or avx512_bf16, as
``tools/train.py --amp``; fp16 ``AmpOptimWrapper`` on a GPU), built from the
same weights and interleaved with the fp32 ones, and print them side by
side with their ratio to fp32. Two more measurements on a
synthetic-rooms set written to a temporary directory (``--no-data`` skips
them):

- loader vs step: the train loader (the config's pipeline, ``--workers``
  workers) alone, and feeding phase-4 lifelong steps: the time the step
  waits for the next batch (a loader that keeps up makes it ~0);
- evaluation vs forward: a phase-4 evaluation of the validation set
  (``val_step`` + ``MultiTaskMetric`` over all four tasks) against one
  no-grad forward pass over the same preloaded batches (F) and the metric
  accumulation alone (M).

    python benchmarks/lifelong_step_cost.py                 # small CPU size
    python benchmarks/lifelong_step_cost.py --reference     # 288x384, batch 8
    python benchmarks/lifelong_step_cost.py --short         # smoke test
    python benchmarks/lifelong_step_cost.py --amp --channels-last --no-data
"""
import argparse
import copy
import os.path as osp
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

TASKS = ('semantic', 'depth', 'normal', 'saliency')
# D / D0 variants: the four task types, and semantic with 40 classes
LOSS_VARIANTS = ('semantic', 'semantic40', 'depth', 'normal', 'saliency')
LOSS_LABELS = dict(semantic40='semantic, 40 classes')
# Forward + backward (ms) of the authors' released HAD losses on random maps,
# batch 8, 288x384: measured on the 2-core development CPU (AMD EPYC, torch
# 2.14, 2 threads, unloaded), the figures the D rows are compared with.
AUTHORS_MS = dict(normal=261.0, semantic=696.0, semantic40=4681.0)
AUTHORS_SIZE, AUTHORS_BATCH = (288, 384), 8
# Training modes: (mixed precision, channels_last)
MODES = {
    'fp32': (False, False),
    'amp': (True, False),
    'channels_last': (False, True),
    'amp+channels_last': (True, True)
}


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def _batch(n, h, w, num_classes, device, augment=False):
    """A random batch; ``augment``: its samples say they were zoomed
    (scale 1, 1.2, 1.5 in turn, centre crops) and every other one flipped,
    as the NYUv2 pipeline's, so the pseudo-label cache follows them."""
    from had_mm.datasets.transforms import PackMultiTaskInputs
    from had_mm.datasets.transforms.geometric import scale_crop_size
    rng = np.random.default_rng(0)
    items = []
    for i in range(n):
        normal = rng.normal(size=(h, w, 3)).astype(np.float32)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        aug = dict(flip=False)
        if augment:
            scale = (1.0, 1.2, 1.5)[i % 3]
            ch, cw = scale_crop_size(h, w, scale)
            aug = dict(
                flip=i % 2 == 1,
                scale_crop=(scale, (h - ch) // 2, (w - cw) // 2))
        items.append(PackMultiTaskInputs().transform(
            dict(
                img_path=f'bench/{i}.png',  # the pseudo-label cache key
                **aug,
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
    from had_mm.tasks import get_task, task_names
    out = copy.deepcopy(batch)
    for sample in out['data_samples']:
        for t in task_names():
            field = get_task(t).label_field
            if t != task and field in sample:
                delattr(sample, field)
    return out


def wrapper_cfg(cfg, amp: bool, device) -> dict:
    """The config's optim wrapper, made a mixed-precision one for ``amp``
    (as ``tools/train.py --amp`` does)."""
    wrapper = copy.deepcopy(cfg.optim_wrapper)
    if amp:
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            wrapper.pop(key, None)
        if device.type == 'cuda':
            wrapper.update(type='AmpOptimWrapper', loss_scale='dynamic')
        else:
            wrapper.update(type='CPUAmpOptimWrapper')
    return wrapper


def to_channels_last(*models) -> None:
    """Weights (and, for a had_mm predictor, inputs) in channels_last."""
    for model in models:
        model.to(memory_format=torch.channels_last)
        if hasattr(model, 'channels_last'):
            model.channels_last = True


def build(cfg, device, amp=False, channels_last=False):
    from had_mm.registry import MODELS
    model = MODELS.build(cfg.model).to(device).train()
    if channels_last:
        to_channels_last(model)
    optim = build_optim_wrapper(model, wrapper_cfg(cfg, amp, device))
    return model, optim


def make_variants(cfg, args, device, modes=('fp32', )):
    """The timed functions: A, B_t, C_t in every mode of ``modes`` (named
    ``A``, ``B_2``... in fp32 and ``A@amp``, ``B_2@amp``... otherwise), and
    P_t, D and D0 in fp32."""
    h, w = args.size
    num_classes = cfg.model.heads.semantic.num_classes
    # the NYUv2 pipeline zooms and flips: P_t follows both
    augment = any(
        t.get('type') == 'MultiTaskRandomScaleCrop'
        for t in cfg.train_dataloader.dataset.pipeline)
    batch = _batch(args.batch, h, w, num_classes, device, augment)
    variants, caches = {}, {}
    if args.losses_only:
        return _loss_variants(args, device, num_classes), caches
    for mode in modes:
        # the same initial weights in every mode
        torch.manual_seed(0)
        suffix = '' if mode == 'fp32' else f'@{mode}'
        found = _step_variants(
            cfg, args, device, batch, *MODES[mode], with_cache=mode == 'fp32')
        variants.update({k + suffix: v for k, v in found[0].items()})
        caches.update(found[1])
    variants.update(_loss_variants(args, device, num_classes))
    return variants, caches


def _step_variants(cfg, args, device, batch, amp, channels_last, with_cache):
    """A, B_t, C_t (and P_t when ``with_cache``) of one mode."""
    from had_mm.engine.loops.pseudo_label_cache import \
        compute_pseudo_label_cache
    from had_mm.registry import MODELS
    variants, caches = {}, {}
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
    if channels_last:
        to_channels_last(seg)
    seg_optim = build_optim_wrapper(seg, wrapper_cfg(cfg, amp, device))
    seg_batch = _only(batch, 'semantic')
    variants['A'] = lambda: seg.train_step(seg_batch, seg_optim)

    model, optim = build(cfg, device, amp, channels_last)
    teacher = copy.deepcopy(model).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    x = data['inputs']

    for t in args.phases:
        seen = TASKS[:t]

        def floor(seen=seen):
            # student: backbone once, t heads, trivial per-pixel losses;
            # the wrapper's context is train_step's (autocast under amp)
            with optim.optim_context(model):
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
            model.attach_teacher(teacher, losses=losses, weight=3.0)
            model.train_step(phase_batch, optim)
            model.detach_teacher()

        variants[f'C_{t}'] = lifelong
        if not with_cache:
            continue

        # the same step with the teacher outputs read from the cache
        cache = compute_pseudo_label_cache(teacher, seen[:-1],
                                           [copy.deepcopy(batch)],
                                           model.data_preprocessor)
        caches[t] = cache

        def cached(phase_batch=phase_batch, losses=losses, cache=cache):
            model.attach_teacher(teacher, losses=losses, weight=3.0)
            model.set_pseudo_label_cache(cache)
            model.train_step(phase_batch, optim)
            model.detach_teacher()

        variants[f'P_{t}'] = cached
    return variants, caches


def _loss_variants(args, device, num_classes):
    """D / D0 per task type on the maps of one batch (fp32)."""
    from had_mm.registry import MODELS
    h, w = args.size
    variants = {}
    channels = dict(
        semantic=num_classes, semantic40=40, depth=1, normal=3, saliency=1)
    for name in LOSS_VARIANTS:
        task = 'semantic' if name.startswith('semantic') else name
        shape = (args.batch, channels[name], h, w)
        s_map = torch.randn(shape, device=device, requires_grad=True)
        t_map = torch.randn(shape, device=device)
        if task == 'depth':
            t_map = t_map.abs() + 0.5
        had = MODELS.build(dict(type='HADLoss', task=task))
        plain = MODELS.build(dict(type='PixelDistillLoss', task=task))

        if task == 'normal':  # task outputs: unit vectors
            t_map = F.normalize(t_map, dim=1)

        def run_loss(fn, s_map=s_map, t_map=t_map, task=task):
            src = s_map.abs() + 0.5 if task == 'depth' else s_map
            if task == 'normal':
                src = F.normalize(src, dim=1)
            fn(src, t_map).backward()

        variants[f'D_{name}'] = (lambda f=had, r=run_loss: r(f))
        variants[f'D0_{name}'] = (lambda f=plain, r=run_loss: r(f))
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


def make_data(cfg, args, root):
    """Synthetic rooms at the loader size, and the config's loaders on
    them (train: the phase-4 task, ``--workers`` workers; val: all tasks,
    no workers)."""
    from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
    generate_synthetic_rooms(
        root, num=args.data_num, size=args.data_size, seed=0)
    train = copy.deepcopy(cfg.train_dataloader)
    train.update(
        batch_size=args.batch,
        num_workers=args.workers,
        persistent_workers=args.workers > 0)
    train.dataset.update(data_root=root, tasks=[TASKS[-1]])
    val = copy.deepcopy(cfg.val_dataloader)
    val.update(batch_size=args.batch, num_workers=0, persistent_workers=False)
    val.dataset.update(data_root=root, tasks=list(TASKS))
    return train, val


def loader_vs_step(train_cfg, model, teacher, optim, losses, n, device):
    """Median per-batch time of the loader alone, then the wait for the
    next batch and the step time when the loader feeds phase-4 steps."""
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(train_cfg, seed=0)
    it = iter(loader)
    next(it)  # start the workers
    # drain what the workers prefetched, so that the timed batches are
    # produced at the loader's own rate
    for _ in range(max(loader.num_workers, 1) * (loader.prefetch_factor or 1)):
        next(it)
    alone = []
    for _ in range(n):
        t0 = time.perf_counter()
        next(it)
        alone.append(time.perf_counter() - t0)
    waits, steps = [], []
    model.attach_teacher(teacher, losses=losses, weight=3.0)
    for _ in range(n + 1):
        t0 = time.perf_counter()
        batch = next(it)
        t1 = time.perf_counter()
        model.train_step(batch, optim)
        _sync(device)
        t2 = time.perf_counter()
        waits.append(t1 - t0)
        steps.append(t2 - t1)
    model.detach_teacher()
    # the first wait follows the loader-only loop that drained the queue
    waits, steps = waits[1:], steps[1:]
    return dict(
        alone=statistics.median(alone),
        wait=statistics.median(waits),
        step=statistics.median(steps),
        stall=sum(waits) / (sum(waits) + sum(steps)))


def eval_vs_forward(val_cfg, model, reps, device):
    """A full evaluation (val_step + MultiTaskMetric) of the preloaded
    validation batches against one no-grad forward pass over them (F) and
    the metric accumulation alone (M); medians over interleaved reps."""
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner

    from had_mm.registry import METRICS
    loader = Runner.build_dataloader(val_cfg, seed=0)
    batches = list(loader)
    num = len(loader.dataset)
    metric = METRICS.build(dict(type='MultiTaskMetric', tasks=list(TASKS)))
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = loader.dataset.metainfo
    model.eval()
    model.predict_tasks = list(TASKS)

    @torch.no_grad()
    def forward():
        for batch in batches:
            data = model.data_preprocessor(batch, False)
            model._forward(data['inputs'])

    outputs = []

    @torch.no_grad()
    def evaluate():
        outputs.clear()
        for batch in batches:
            outs = model.val_step(batch)
            evaluator.process(data_samples=outs, data_batch=batch)
            outputs.append(outs)
        return evaluator.evaluate(num)

    def metrics_only():
        for batch, outs in zip(batches, outputs):
            evaluator.process(data_samples=outs, data_batch=batch)
        evaluator.evaluate(num)

    evaluate()
    med = measure(dict(F=forward, E=evaluate, M=metrics_only), reps, 1, device)
    model.predict_tasks = None
    model.train()
    med['images'] = num
    return med


def select_modes(args, device) -> list:
    """fp32 and the modes ``--amp`` / ``--channels-last`` ask for; mixed
    precision is dropped, with one line, on a CPU without bfloat16, and
    channels_last on any CPU."""
    from had_mm.utils.cpu_features import channels_last_refusal, cpu_bf16_flag
    amp, channels_last = args.amp, args.channels_last
    if amp and device.type == 'cpu' and cpu_bf16_flag() is None:
        print('--amp skipped: this CPU has no bfloat16 instructions (AMX or '
              'avx512_bf16)')
        amp = False
    refusal = channels_last_refusal(device) if channels_last else None
    if refusal is not None:
        print(refusal)
        channels_last = False
    return [
        mode for mode, (m_amp, m_cl) in MODES.items()
        if (amp or not m_amp) and (channels_last or not m_cl)
    ]


def print_modes(med, modes, phases) -> None:
    """A, B_t, C_t and C_t/B_t of every mode side by side, with each
    mode's time as a ratio to fp32's."""
    names = dict(amp='mixed precision', channels_last='channels_last')
    names['amp+channels_last'] = 'mixed precision + channels_last'
    print('\nmodes side by side (median ms; x: ratio to fp32)')
    print('| variant | fp32 | ' + ' | '.join(names[m]
                                             for m in modes[1:]) + ' |')
    print('|---' * len(modes) + '|---|')
    rows = ['A'] + [f'{v}_{t}' for t in phases for v in ('B', 'C')]
    for row in rows:
        base = med[row]
        cells = [f'{base * 1e3:.1f}'] + [
            f'{med[f"{row}@{m}"] * 1e3:.1f} '
            f'({med[f"{row}@{m}"] / base:.3f}x)' for m in modes[1:]
        ]
        print(f'| {row} | ' + ' | '.join(cells) + ' |')
    for t in phases:
        ratios = [
            med[f'C_{t}' + ('' if m == 'fp32' else f'@{m}')] /
            med[f'B_{t}' + ('' if m == 'fp32' else f'@{m}')] for m in modes
        ]
        print(f'| C_{t}/B_{t} | ' + ' | '.join(f'{r:.3f}'
                                               for r in ratios) + ' |')


def _peak_memory(device) -> str:
    if device.type == 'cuda':
        return (f'peak GPU memory: '
                f'{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB')
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return f'peak process memory (RSS): {rss:.0f} MiB'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--config',
        default='configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py',
        help='model, optimizer and data pipelines of this config')
    parser.add_argument(
        '--size', type=int, nargs=2, default=None, help='default 96 128')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--reps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--reference',
        action='store_true',
        help='the HAD reference model at 288x384 (NYUv2 config)')
    parser.add_argument(
        '--short', action='store_true', help='a quick smoke run')
    parser.add_argument(
        '--phases',
        type=int,
        nargs='+',
        default=[2, 3, 4],
        choices=[2, 3, 4],
        help='phases t of the B_t / C_t / P_t variants')
    parser.add_argument('--device', default=None)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--no-data',
        action='store_true',
        help='skip the loader and evaluation measurements')
    parser.add_argument(
        '--workers', type=int, default=2, help='train loader workers')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='also time A, B_t, C_t in mixed precision (CPU: bfloat16 '
        'autocast, on CPUs with AMX or avx512_bf16)')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='also time A, B_t, C_t in the channels_last memory format')
    parser.add_argument(
        '--losses-only',
        action='store_true',
        help='time the D / D0 losses only (no model steps, no data)')
    parser.add_argument(
        '--data-size',
        type=int,
        nargs=2,
        default=None,
        help='size of the generated images (default: --size; '
        '--reference: 480x640, resized by the pipeline as NYUv2)')
    parser.add_argument(
        '--data-num',
        type=int,
        default=64,
        help='generated images (a quarter go to the validation split)')
    args = parser.parse_args(argv)
    if args.reference:
        args.config = 'configs/had/had_r18-d8_nyuv2-4tasks.py'
        args.size = args.size or [288, 384]
        args.data_size = args.data_size or [480, 640]
    if args.short:
        args.size, args.batch, args.reps, args.warmup = [32, 40], 2, 2, 1
        args.data_num = 12
    args.size = args.size or [96, 128]
    args.data_size = args.data_size or args.size
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
    modes = select_modes(args, device)
    torch.manual_seed(0)
    variants, _ = make_variants(cfg, args, device, modes)
    med = measure(variants, args.reps, args.warmup, device)
    print(f'device {device}, {args.size[0]}x{args.size[1]}, batch '
          f'{args.batch}, {args.reps} reps (medians, ms), torch threads '
          f'{torch.get_num_threads()}')
    print('| variant | median ms | ratios |')
    print('|---|---|---|')
    # without A (--losses-only) the D rows give no ratio to it
    a = med.get('A', float('nan'))
    if not args.losses_only:
        print(f'| A (mmseg EncoderDecoder, 1 task) | {a * 1e3:.1f} | 1 |')
    for t in [] if args.losses_only else args.phases:
        b, c, p = med[f'B_{t}'], med[f'C_{t}'], med[f'P_{t}']
        print(f'| B_{t} (floor, phase {t}) | {b * 1e3:.1f} | '
              f'B/A {b / a:.3f} |')
        print(f'| C_{t} (had_mm, phase {t}) | {c * 1e3:.1f} | '
              f'C/B {c / b:.3f}, C/A {c / a:.3f} |')
        print(f'| P_{t} (had_mm + pseudo-label cache, phase {t}) | '
              f'{p * 1e3:.1f} | P/C {p / c:.3f}, P/A {p / a:.3f} |')
    at_authors_size = (
        tuple(args.size) == AUTHORS_SIZE and args.batch == AUTHORS_BATCH)
    for name in LOSS_VARIANTS:
        d, d0 = med[f'D_{name}'], med[f'D0_{name}']
        authors = ''
        if name in AUTHORS_MS and at_authors_size:
            authors = f", D/authors' {d * 1e3 / AUTHORS_MS[name]:.3f}"
        to_a = '' if args.losses_only else (
            f'D/A {d / a:.4f}, D0/A {d0 / a:.4f}, (D-D0)/A '
            f'{(d - d0) / a:.4f}, ')
        print(f'| D {LOSS_LABELS.get(name, name)} (HAD loss) | {d * 1e3:.2f}'
              f' | {to_a}D0 {d0 * 1e3:.2f} ms, D/D0 {d / d0:.3f}{authors} |')
    if not at_authors_size:
        print(f"(D/authors': the authors' figures are for "
              f'{AUTHORS_SIZE[0]}x{AUTHORS_SIZE[1]}, batch {AUTHORS_BATCH}: '
              f'--size {AUTHORS_SIZE[0]} {AUTHORS_SIZE[1]} --batch '
              f'{AUTHORS_BATCH}, or --reference)')
    if len(modes) > 1:
        print_modes(med, modes, args.phases)
    print(_peak_memory(device))
    if args.no_data or args.losses_only:
        return
    from had_mm.registry import MODELS
    model, optim = build(cfg, device)
    teacher = copy.deepcopy(model).eval()
    losses = {
        task: MODELS.build(dict(type='HADLoss', task=task))
        for task in TASKS[:-1]
    }
    with tempfile.TemporaryDirectory() as tmp:
        train_cfg, val_cfg = make_data(cfg, args, osp.join(tmp, 'rooms'))
        n = max(args.reps, 3)
        ld = loader_vs_step(train_cfg, model, teacher, optim, losses, n,
                            device)
        ev = eval_vs_forward(val_cfg, model, max(args.reps // 2, 1), device)
    print(f'\nloader vs step: {args.data_size[0]}x{args.data_size[1]} '
          f'images through the config pipeline, batch {args.batch}, '
          f'{args.workers} workers, {n} batches (medians, ms)')
    print('| measurement | median ms | ratio |')
    print('|---|---|---|')
    print(f'| loader alone, per batch | {ld["alone"] * 1e3:.1f} | '
          f'loader/step {ld["alone"] / ld["step"]:.3f} |')
    print(f'| phase-4 step fed by the loader | {ld["step"] * 1e3:.1f} | |')
    print(f'| wait for the next batch | {ld["wait"] * 1e3:.2f} | '
          f'stall {100 * ld["stall"]:.2f} % of the time |')
    f, e, m = ev['F'], ev['E'], ev['M']
    print(f'\nevaluation vs forward: {ev["images"]} validation images, '
          f'4 tasks, batch {args.batch} (medians, ms)')
    print('| measurement | median ms | ratio |')
    print('|---|---|---|')
    print(f'| F: forward pass (no grad) | {f * 1e3:.1f} | 1 |')
    print(f'| M: metric accumulation alone | {m * 1e3:.1f} | '
          f'M/F {m / f:.3f} |')
    print(f'| E: evaluation (val_step + metrics) | {e * 1e3:.1f} | '
          f'E/F {e / f:.3f}, E/(F+M) {e / (f + m):.3f} |')
    print(_peak_memory(device))


if __name__ == '__main__':
    main()
