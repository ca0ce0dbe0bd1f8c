"""Pre-train the tiny teacher and student ViTs of the KDP demo configs.

Prompt-based continual learners keep their ViT frozen, so the ViT must
already carry useful features; the real configs load ImageNet-pretrained
ViT-B / ViT-S. This tool is the stand-in for that pre-training on the
procedural shapes: each tiny ViT (the archs of
``configs/_base_/models/tiny-vit-b_tiny-vit-s.py``) is trained with
supervision, with a linear head on the class token, on procedural classes
*disjoint* from the continual ones (``class_offset`` 200 by default: other
shape / hue / texture combinations, same visual vocabulary) and saved
where the tiny configs point (``student_checkpoint`` and
``teacher_checkpoint`` of that file), as an mmengine checkpoint with
``backbone.*`` keys.

Usage (from the repo root; about 4 CPU minutes on one thread)::

    PYTHONPATH=. python projects/kdp/tools/pretrain_tiny_vit.py
"""
import argparse
import math
import os
import os.path as osp
import sys
import time
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
MODEL_CFG = osp.join(REPO, 'projects', 'kdp', 'configs', '_base_', 'models',
                     'tiny-vit-b_tiny-vit-s.py')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Pre-train the tiny KDP ViTs on disjoint procedural '
        'classes (the stand-in for ImageNet pre-training)')
    parser.add_argument(
        '--model-config',
        default=MODEL_CFG,
        help='config with tiny_vit_s / tiny_vit_b and the checkpoint paths')
    parser.add_argument(
        '--which',
        nargs='+',
        default=['student', 'teacher'],
        choices=['student', 'teacher'],
        help='which ViTs to pre-train')
    parser.add_argument(
        '--out-dir',
        help='write here instead of the '
        "config's checkpoint paths (same file names)")
    parser.add_argument('--num-classes', type=int, default=40)
    parser.add_argument('--class-offset', type=int, default=200)
    parser.add_argument('--num-per-class', type=int, default=150)
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--weight-decay', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    return parser.parse_args(argv)


def _normalise(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC RGB -> float NCHW in [-1, 1] (the configs' mean/std)."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    return (x - 127.5) / 127.5


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random crop (4-pixel reflect padding) and horizontal flip."""
    n, _, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4), mode='reflect')
    dy = torch.randint(0, 9, (n, ), generator=gen)
    dx = torch.randint(0, 9, (n, ), generator=gen)
    out = torch.stack(
        [padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


class _Classifier(nn.Module):
    """A ViT and a linear head on its class token."""

    def __init__(self, backbone: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.embed_dims, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(x)[-1]
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        return self.head(feats)


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 256):
            correct += int(
                (model(x[i:i + 256]).argmax(1) == y[i:i + 256]).sum())
    return 100.0 * correct / len(x)


def pretrain(vit_cfg: dict, data: Dict[str, Tuple[torch.Tensor, torch.Tensor]],
             args: argparse.Namespace, name: str) -> Tuple[dict, float]:
    """Train one ViT with a linear head; return its state dict and the
    held-out accuracy.

    Args:
        vit_cfg (dict): The ViT config (``PromptedViT`` or
            ``mmpretrain.VisionTransformer``).
        data (dict): ``train`` / ``test`` tensors (images, labels).
        args (argparse.Namespace): The options.
        name (str): For the log.

    Returns:
        tuple[dict, float]: ``{'backbone.*': ..., 'head.*': ...}`` and the
        test accuracy (%).
    """
    from had_mm.registry import MODELS
    torch.manual_seed(args.seed)
    model = _Classifier(MODELS.build(dict(vit_cfg)), args.num_classes)
    x, y = data['train']
    steps_per_epoch = math.ceil(len(x) / args.batch_size)
    total = args.epochs * steps_per_epoch
    warmup = min(steps_per_epoch, total // 10)
    opt = torch.optim.AdamW(
        model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else 0.5 *
        (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup))))
    gen = torch.Generator().manual_seed(args.seed)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        losses = []
        for i in range(0, len(x), args.batch_size):
            idx = perm[i:i + args.batch_size]
            logits = model(_augment(x[idx], gen))
            loss = F.cross_entropy(logits, y[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        print(
            f'[{name}] epoch {epoch + 1}/{args.epochs} loss '
            f'{np.mean(losses):.3f} ({time.time() - start:.0f} s)',
            flush=True)
    acc = _accuracy(model, *data['test'])
    print(
        f'[{name}] held-out accuracy on the {args.num_classes} '
        f'pre-training classes: {acc:.1f}%',
        flush=True)
    return model.state_dict(), acc


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from had_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('had_mm')
    import projects.kdp.kdp  # noqa: F401  (registers PromptedViT)
    from projects.kdp.kdp.datasets import (generate_procedural,
                                           procedural_classes)
    cfg = Config.fromfile(args.model_config)
    continual = set(procedural_classes(20))
    pre = set(procedural_classes(args.num_classes, args.class_offset))
    if continual & pre:
        raise SystemExit('error: the pre-training classes overlap the '
                         'continual ones; use another --class-offset')
    data = {}
    for split, per_class in (('train', args.num_per_class), ('test', 30)):
        images, labels, _ = generate_procedural(
            args.num_classes,
            per_class,
            size=cfg.tiny_vit_s.get('img_size', 32),
            seed=args.seed + 100,
            split=split,
            class_offset=args.class_offset)
        data[split] = (_normalise(images), torch.from_numpy(labels))
    targets = dict(
        student=(cfg.tiny_vit_s, cfg.student_checkpoint),
        teacher=(cfg.tiny_vit_b, cfg.teacher_checkpoint))
    for which in args.which:
        vit_cfg, path = targets[which]
        if not osp.isabs(path):
            path = osp.join(os.getcwd(), path)
        if args.out_dir:
            path = osp.join(args.out_dir, osp.basename(path))
        state, acc = pretrain(vit_cfg.to_dict(), data, args, which)
        os.makedirs(osp.dirname(path), exist_ok=True)
        torch.save(
            dict(
                state_dict=state,
                meta=dict(
                    arch=str(vit_cfg.to_dict()),
                    pretrain_classes=[args.class_offset, args.num_classes],
                    pretrain_accuracy=acc,
                    epochs=args.epochs)), path)
        print(f'[{which}] saved {path}', flush=True)


if __name__ == '__main__':
    main()
