"""Metrics of the trivial predictors on a config's test set.

The floor a dense model must beat: the majority training class, the mean
training depth, the mean training normal (unit-normalised) and an
all-background saliency map, each scored by the config's MultiTaskMetric
exactly as a trained model is.

Usage: python tools/analysis/trivial_baselines.py CONFIG [--out FILE.json]
"""
import argparse
import json
import sys

import numpy as np
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData


def fit_trivial(dataset) -> dict:
    """Constants from the training labels of ``dataset`` (one pass)."""
    counts = np.zeros(256, np.int64)
    depth_sum = depth_n = 0.0
    normal_sum = np.zeros(3)
    for i in range(len(dataset)):
        res = dataset[i]
        if 'gt_seg_map' in res:
            counts += np.bincount(res['gt_seg_map'].ravel(), minlength=256)
        if 'gt_depth_map' in res:
            d = res['gt_depth_map']
            depth_sum += float(d[d > 0].sum())
            depth_n += float((d > 0).sum())
        if 'gt_normal' in res:
            normal_sum += res['gt_normal'].reshape(-1, 3).sum(0)
    counts[255] = 0
    normal = normal_sum / max(np.linalg.norm(normal_sum), 1e-12)
    return dict(
        semantic=int(counts.argmax()),
        depth=depth_sum / max(depth_n, 1),
        normal=normal.tolist(),
        saliency=0.0)


def score_trivial(dataset, metric, consts: dict) -> dict:
    """Score the constant predictions on ``dataset`` with ``metric``."""
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        h, w = sample.metainfo['ori_shape']
        preds = dict(
            pred_sem_seg=torch.full((1, h, w), consts['semantic']),
            pred_depth_map=torch.full((1, h, w), consts['depth']),
            pred_normal=torch.tensor(consts['normal'],
                                     dtype=torch.float32).view(3, 1, 1).expand(
                                         3, h, w).clone(),
            pred_saliency=torch.full((1, h, w), consts['saliency']))
        sample.set_data({k: PixelData(data=v) for k, v in preds.items()})
        metric.process(None, [sample.to_dict()])
    return metric.evaluate(len(dataset))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--out', help='write the metrics as JSON here')
    args = parser.parse_args(argv)
    from had_mm.apis import load_config
    from had_mm.registry import DATASETS, METRICS
    try:
        cfg = load_config(args.config)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    init_default_scope(cfg.get('default_scope', 'had_mm'))
    train_cfg = dict(cfg.train_dataloader.dataset)
    train_cfg['pipeline'] = [
        dict(type='LoadMultiTaskImage'),
        dict(type='LoadMultiTaskAnnotations')
    ]
    consts = fit_trivial(DATASETS.build(train_cfg))
    test = DATASETS.build(cfg.test_dataloader.dataset)
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = test.metainfo
    metrics = score_trivial(test, metric, consts)
    print(f'trivial predictors: {consts}')
    for key, value in metrics.items():
        if '/IoU.' not in key:
            print(f'{key}: {value:.4f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(constants=consts, metrics=metrics), f, indent=2)


if __name__ == '__main__':
    main()
