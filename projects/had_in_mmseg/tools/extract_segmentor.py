"""Write the stock segmentor's checkpoint from an IncrementalSegDistiller
one: ``segmentor.*`` weights without the prefix, loadable by the plain mmseg
config (e.g. with ``tools/test.py``).

    python projects/had_in_mmseg/tools/extract_segmentor.py IN.pth OUT.pth

The file is read without running any of its code (see
:func:`had_mm.checkpoint.read_foreign_checkpoint`); objects of its ``meta``
that are not plain data are dropped.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from had_mm.checkpoint import (CheckpointLoadError, foreign_tensors,
                               read_foreign_checkpoint, strip_prefix,
                               without_foreign_objects)

PREFIX = 'segmentor.'  # where IncrementalSegDistiller keeps the segmentor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='IncrementalSegDistiller checkpoint')
    parser.add_argument('dst', help='output checkpoint of the segmentor')
    args = parser.parse_args()
    try:
        ckpt = read_foreign_checkpoint(args.src)
        tensors, _ = foreign_tensors(ckpt, args.src)
    except (CheckpointLoadError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    state = strip_prefix(tensors, PREFIX)
    if not state:
        sys.exit(f'error: {args.src} holds no segmentor.* weights')
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(
        dict(state_dict=state, meta=without_foreign_objects(meta) or {}),
        args.dst)
    print(f'{len(state)} tensors -> {args.dst}')


if __name__ == '__main__':
    main()
