# Copyright (c) had_mm contributors. All rights reserved.
"""Parameters and FLOPs of a model: backbone, each head, and one lifelong
iteration per phase.

Example::

    python tools/analysis/get_flops.py \\
        configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py \\
        --shape 96 128
    python tools/analysis/get_flops.py \\
        configs/had/had_r18-d8_nyuv2-3tasks.py \\
        --tasks semantic depth

Counts come from mmengine's complexity analysis (``FlopAnalyzer``: one
fused multiply-add = one FLOP, fvcore's convention) on one ``3xHxW`` image
(default: the test pipeline's ``MultiTaskResize`` scale, else 480x640,
NYUv2's size). The heads are counted at their decode resolution; the final
resize of their outputs to the image is not included.

For a lifelong config (``train_cfg.phases``), phase *t* trains the
backbone and the heads of the first *t* tasks (forward and backward, taken
as 3 x the forward, the usual estimate) and, from phase 2 on, runs the
frozen teacher (the backbone and the *t - 1* old heads) forward once; the
table gives that cost per image and per training batch. With
``train_cfg.pseudo_label_cache=True`` the teacher runs once per phase
instead; a ``train_cfg.teacher`` of another config costs what that config
costs (run this tool on it).
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import torch.nn as nn

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'data'))
from light_import import cli  # noqa: E402

DEFAULT_SHAPE = (480, 640)


class _Parts(nn.Module):
    """Backbone (+ neck) and heads in one module, so that one trace gives
    the FLOPs of each (``FlopAnalyzer.by_module``)."""

    def __init__(self, model: nn.Module, heads: Dict[str, nn.Module]) -> None:
        super().__init__()
        self.backbone = model.backbone
        self.neck = getattr(model, 'neck', None)
        self.heads = nn.ModuleDict(heads)

    def forward(self, x):
        feats = self.backbone(x)
        if self.neck is not None:
            feats = self.neck(feats)
        return tuple(head(feats) for head in self.heads.values())


def model_heads(model: nn.Module) -> Dict[str, nn.Module]:
    """The task heads of a model (a plain segmentor: its decode head)."""
    if hasattr(model, 'heads'):
        return dict(model.heads.items())
    return dict(semantic=model.decode_head)


def count(model: nn.Module, shape: Tuple[int, int],
          tasks: Sequence[str]) -> Dict[str, Dict[str, int]]:
    """FLOPs and parameters of the backbone (with neck) and each head.

    Args:
        model (nn.Module): A built model.
        shape (tuple[int, int]): Input ``(H, W)``.
        tasks (Sequence[str]): Heads to count.

    Returns:
        dict: ``{part: dict(flops=..., params=...)}`` with parts
        ``backbone`` and the tasks.
    """
    import torch
    from mmengine.analysis import FlopAnalyzer, parameter_count

    heads = model_heads(model)
    parts = _Parts(model, {t: heads[t] for t in tasks}).eval()
    x = torch.zeros(1, 3, *shape)
    with torch.no_grad():
        analyzer = FlopAnalyzer(parts, (x, ))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        flops = analyzer.by_module()
    params = parameter_count(parts)
    out = dict(
        backbone=dict(
            flops=flops['backbone'] + flops.get('neck', 0),
            params=params['backbone'] + params.get('neck', 0)))
    for task in tasks:
        out[task] = dict(
            flops=flops[f'heads.{task}'], params=params[f'heads.{task}'])
    return out


def lifelong_costs(parts: Dict[str, Dict[str, int]],
                   phases: Sequence[str]) -> List[Dict[str, float]]:
    """FLOPs of one training iteration per image, per phase.

    Args:
        parts (dict): From :func:`count` (every phase task included).
        phases (Sequence[str]): The task of each phase, in order.

    Returns:
        list[dict]: Per phase: ``task``, ``student`` (forward),
        ``teacher`` (forward) and ``iteration`` (3 x student + teacher).
    """
    out = []
    for t, task in enumerate(phases):
        student = parts['backbone']['flops'] + sum(parts[p]['flops']
                                                   for p in phases[:t + 1])
        teacher = 0 if t == 0 else parts['backbone']['flops'] + sum(
            parts[p]['flops'] for p in phases[:t])
        out.append(
            dict(
                task=task,
                student=student,
                teacher=teacher,
                iteration=3 * student + teacher))
    return out


def _size(num: float, unit: str) -> str:
    for scale, prefix in ((1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if abs(num) >= scale:
            return f'{num / scale:.3g} {prefix}{unit}'
    return f'{num:.3g} {unit}'


def _default_shape(cfg) -> Tuple[int, int]:
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except AttributeError:
        return DEFAULT_SHAPE
    for transform in pipeline:
        if transform.get('type') == 'MultiTaskResize':
            return tuple(transform['scale'])
    return DEFAULT_SHAPE


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser('Parameters and FLOPs of the backbone, each head '
                            'and one lifelong iteration')
    cli.add_config_args(parser, cfg_options=False)
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input size (default: the test pipeline\'s MultiTaskResize '
        'scale, else 480 640)')
    parser.add_argument(
        '--tasks',
        nargs='+',
        help='heads to count, task names of the model (default: every '
        'head)')
    cli.add_cfg_options(parser)
    args = parser.parse_args(argv)
    if args.shape and min(args.shape) < 1:
        parser.error(f'--shape must be positive, got {args.shape}')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Run the tool; one ``error:`` line and exit status 2 on bad input."""
    args = parse_args(argv)
    cli.require_file(args.config)
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope

    from had_mm.apis import exit_on_bad_input, load_config
    from had_mm.registry import MODELS
    with exit_on_bad_input():
        cfg = load_config(args.config, args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'had_mm'))
        model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()
        heads = list(model_heads(model))
        tasks = args.tasks or heads
        missing = [t for t in tasks if t not in heads]
        if missing:
            raise ValueError(f'the model has no head for task(s) '
                             f'{", ".join(missing)} (its heads: '
                             f'{", ".join(heads)})')
        phases = [
            p['task']
            for p in (cfg.get('train_cfg') or {}).get('phases') or []
            if p.get('task') in heads
        ]
        shape = tuple(args.shape or _default_shape(cfg))
        parts = count(model, shape,
                      [t for t in heads if t in tasks or t in phases])
    print(f'{args.config}: input 3x{shape[0]}x{shape[1]}, one image '
          f'(1 FLOP = 1 multiply-add)\n')
    print(f'{"part":<12}{"params":>12}{"FLOPs":>14}')
    total_params = total_flops = 0
    for name in ['backbone'] + [t for t in heads if t in tasks]:
        total_params += parts[name]['params']
        total_flops += parts[name]['flops']
        print(f'{name:<12}{_size(parts[name]["params"], ""):>12}'
              f'{_size(parts[name]["flops"], "FLOPs"):>14}')
    print(f'{"total":<12}{_size(total_params, ""):>12}'
          f'{_size(total_flops, "FLOPs"):>14}')
    if not phases:
        return
    batch = (cfg.get('train_dataloader') or {}).get('batch_size', 1)
    print(f'\nOne lifelong iteration (forward + backward = 3 x forward of '
          f'the student, plus the teacher\'s forward), per image and per '
          f'batch of {batch}:\n')
    print(f'{"phase":<16}{"student fwd":>14}{"teacher fwd":>14}'
          f'{"iteration":>14}{"per batch":>14}')
    for t, row in enumerate(lifelong_costs(parts, phases)):
        phase = f'{t + 1} {row["task"]}'
        print(f'{phase:<16}'
              f'{_size(row["student"], "FLOPs"):>14}'
              f'{_size(row["teacher"], "FLOPs"):>14}'
              f'{_size(row["iteration"], "FLOPs"):>14}'
              f'{_size(row["iteration"] * batch, "FLOPs"):>14}')
    if (cfg.get('train_cfg') or {}).get('teacher'):
        print('\ntrain_cfg.teacher is set: the teacher column is the '
              'self-teacher\'s; the configured teacher costs what its own '
              'config costs.')


if __name__ == '__main__':
    main()
