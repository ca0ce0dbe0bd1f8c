"""Shared helpers of the distillation tests (tiny configs, fake batches)."""
import os.path as osp

import torch

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = osp.join(REPO, 'tests', 'data', 'configs')
TINY_SEG = osp.join(CONFIGS, 'tiny_seg.py')
TINY_TEACHER = osp.join(CONFIGS, 'tiny_heteroakd_teacher.py')
TINY_DISTILL = osp.join(CONFIGS, 'tiny_heteroakd.py')


def build(cfg):
    """Build a model config with had_mm's registry."""
    from had_mm.registry import MODELS
    return MODELS.build(cfg)


def seg_batch(b_size=2, size=(32, 40), num_classes=13, seed=0):
    """Random inputs and SegDataSamples with labels (two rows unlabelled)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(b_size, 3, *size, generator=gen)
    samples = []
    for _ in range(b_size):
        label = torch.randint(0, num_classes, (1, *size), generator=gen)
        label[:, :2] = 255
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=label)
        sample.set_metainfo(
            dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(sample)
    return inputs, samples
