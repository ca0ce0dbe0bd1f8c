"""Write the stock segmentor's checkpoint from an IncrementalSegDistiller
one: ``segmentor.*`` weights without the prefix, loadable by the plain mmseg
config (e.g. with ``tools/test.py``).

    python projects/had_in_mmseg/tools/extract_segmentor.py IN.pth OUT.pth
"""
import argparse
import os
import os.path as osp
import sys

import torch

PREFIX = 'segmentor.'  # where IncrementalSegDistiller keeps the segmentor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='IncrementalSegDistiller checkpoint')
    parser.add_argument('dst', help='output checkpoint of the segmentor')
    args = parser.parse_args()
    ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
    state = {
        k[len(PREFIX):]: v
        for k, v in ckpt.get('state_dict', ckpt).items()
        if k.startswith(PREFIX)
    }
    if not state:
        sys.exit(f'error: {args.src} holds no segmentor.* weights')
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=state, meta=ckpt.get('meta', {})), args.dst)
    print(f'{len(state)} tensors -> {args.dst}')


if __name__ == '__main__':
    main()
