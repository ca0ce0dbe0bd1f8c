"""How far the pseudo-label cache is from the online teacher under zooms.

The cache follows ``MultiTaskRandomScaleCrop`` by cutting each sample's crop
window out of the teacher's maps of the un-augmented image (depth divided
by the zoom); a CNN is not scale-equivariant, so this is approximate. With a
trained model as the teacher (a lifelong phase checkpoint), on the first
``--num-images`` training images of the config's dataset through a
NYUv2-style pipeline (scale-crop with ``--scales``, then flip), prints the
agreement of the cached pseudo-labels with the online teacher's (semantic,
saliency: pixels with the same label; depth: mean absolute difference, m;
normal: mean angle, degrees) for: the pipeline's zooms, flips only (zoom 1:
the part that is not about scale) and every image at the largest zoom; and,
at the largest zoom, the mean absolute error of each depth map against the
zoomed ground truth (online teacher, cache, cache without the division).

    python benchmarks/pseudo_label_cache_error.py \\
        configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py \\
        work_dirs/demo/phase_3_normal.pth \\
        --tasks semantic depth normal
"""
import argparse
import random

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope


def _dataset(cfg, tasks, scales, num, data_root=None):
    from had_mm.registry import DATASETS
    ds = cfg.train_dataloader.dataset.copy()
    ds.tasks = tasks
    if data_root:
        ds.data_root = data_root
    ds.pipeline = [
        dict(type='LoadMultiTaskImage'),
        dict(type='LoadMultiTaskAnnotations'),
        dict(type='MultiTaskRandomScaleCrop', scales=tuple(scales)),
        dict(type='MultiTaskRandomFlip', prob=0.5),
        dict(type='PackMultiTaskInputs')
    ]
    dataset = DATASETS.build(ds)
    dataset.get_subset_(min(num, len(dataset)))  # no shared-memo copy
    return dataset


@torch.no_grad()
def depth_against_labels(model, cache, dataset, batch_size, seed=0):
    """Mean |depth - zoomed label| (m) of the online teacher, the cache and
    the cache without the division by the zoom."""
    random.seed(seed)
    np.random.seed(seed)
    items = [dataset[i] for i in range(len(dataset))]
    sums = dict(online=0.0, cached=0.0, cached_undivided=0.0)
    count = 0
    for start in range(0, len(items), batch_size):
        data = model.data_preprocessor(
            pseudo_collate(items[start:start + batch_size]), True)
        inputs, samples = data['inputs'], data['data_samples']
        size = tuple(inputs.shape[2:])
        cached = cache.raw_outputs(inputs, samples, ['depth'])
        outs = dict(
            online=model.head_outputs(
                model.extract_feat(inputs), ['depth'], size)['depth'],
            cached=model.outputs_from_raw(cached.raw, ['depth'], size,
                                          cached.zoom)['depth'],
            cached_undivided=model.outputs_from_raw(
                cache.lookup(samples, ['depth'], size), ['depth'],
                size)['depth'])
        gt = torch.stack([s.gt_depth_map.data for s in samples])
        valid = gt > 0
        for name, out in outs.items():
            sums[name] += float((out - gt).abs()[valid].sum())
        count += int(valid.sum())
    return {k: v / max(count, 1) for k, v in sums.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the model (and dataset) config')
    parser.add_argument('checkpoint', help='the teacher: a phase checkpoint')
    parser.add_argument(
        '--tasks',
        nargs='+',
        default=['semantic', 'depth', 'normal'],
        help='old tasks of the teacher (heads it has trained)')
    parser.add_argument(
        '--scales', type=float, nargs='+', default=[1, 1.2, 1.5])
    parser.add_argument('--num-images', type=int, default=90)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--data-root', default=None, help="default: the config's")
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    import had_mm  # noqa: F401
    from had_mm.checkpoint import load_model_checkpoint
    from had_mm.engine.loops.pseudo_label_cache import (build_phase_cache,
                                                        format_cache_error,
                                                        measure_cache_error)
    from had_mm.registry import MODELS
    init_default_scope('had_mm')
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    # strict, and one line naming the file if it does not fit
    load_model_checkpoint(model, args.checkpoint, strict=True)
    model.eval()
    dataset = _dataset(cfg, ['depth'], args.scales, args.num_images,
                       args.data_root)
    crop = dataset.pipeline.transforms[2]
    cache = build_phase_cache(model, args.tasks, dataset,
                              model.data_preprocessor, args.batch_size)
    print(f'teacher {args.checkpoint}, {len(dataset)} images')
    for name, scales in (('pipeline zooms', tuple(args.scales)), ('flips only',
                                                                  (1.0, )),
                         (f'zoom {max(args.scales)} only',
                          (max(args.scales), ))):
        crop.scales = scales
        errors = measure_cache_error(
            model,
            args.tasks,
            dataset,
            cache,
            model.data_preprocessor,
            args.batch_size,
            num_images=len(dataset))
        print(f'{name}: {format_cache_error(errors)}')
    if 'depth' in args.tasks:
        crop.scales = (max(args.scales), )
        errors = depth_against_labels(model, cache, dataset, args.batch_size)
        print(f'zoom {max(args.scales)}, mean |depth - zoomed label| (m): ' +
              ', '.join(f'{k} {v:.3f}' for k, v in errors.items()))


if __name__ == '__main__':
    main()
