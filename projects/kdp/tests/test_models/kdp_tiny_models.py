"""Tiny ViT / classifier configs shared by the KDP model tests (CPU, fast).
"""
import copy
from typing import Optional

import torch
from mmpretrain.structures import DataSample

#: A 4-layer ViT on 32 x 32 images with 4 x 4 patches (64 tokens + CLS).
ARCH = dict(embed_dims=32, num_layers=4, num_heads=4, feedforward_channels=64)
#: A 6-layer one (for DualPrompt's / CODA's default layers 0-4).
ARCH6 = dict(embed_dims=32, num_layers=6, num_heads=4, feedforward_channels=64)
#: A wider 4-layer one (a "teacher" / another ViT size).
ARCH_WIDE = dict(
    embed_dims=48, num_layers=4, num_heads=4, feedforward_channels=96)

PREPROCESSOR = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5])


def vit_cfg(arch: dict = ARCH, type: str = 'PromptedViT') -> dict:
    """A tiny ViT config."""
    return dict(
        type=type,
        arch=copy.deepcopy(arch),
        img_size=32,
        patch_size=4,
        drop_rate=0.)


def classifier_cfg(arch: dict = ARCH,
                   num_classes: int = 6,
                   prompt: Optional[dict] = None,
                   **kwargs) -> dict:
    """A tiny PromptContinualClassifier config."""
    cfg = dict(
        type='PromptContinualClassifier',
        backbone=vit_cfg(arch),
        num_classes=num_classes,
        prompt=prompt,
        data_preprocessor=copy.deepcopy(PREPROCESSOR))
    cfg.update(kwargs)
    return cfg


def build(cfg: dict):
    """Build a model from had_mm's registry."""
    from had_mm.registry import MODELS
    return MODELS.build(cfg)


def images(batch: int = 2, seed: int = 0) -> torch.Tensor:
    """Random pre-processed images, ``B x 3 x 32 x 32``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, 32, 32, generator=gen)


def samples(labels) -> list:
    """DataSamples with these ground-truth labels."""
    return [DataSample().set_gt_label(int(label)) for label in labels]


def batch_data(labels, seed: int = 0) -> dict:
    """A data batch as a dataloader gives it (uint8 images)."""
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (3, 32, 32), generator=gen, dtype=torch.uint8)
        for _ in labels
    ]
    return dict(inputs=inputs, data_samples=samples(labels))
