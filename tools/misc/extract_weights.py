"""Extract the weights of a trusted checkpoint into a weights-only file.

Some checkpoints (from older codebases) need full unpickling, which had_mm
refuses to do silently. Run this once on a checkpoint whose source you trust:
it loads it with ``weights_only=False`` and saves only its ``state_dict`` (and
plain ``meta``), which then loads safely anywhere.
"""
import argparse
import os.path as osp
import sys

import torch


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='trusted checkpoint to read')
    parser.add_argument('dst', help='weights-only checkpoint to write')
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        sys.exit(f'error: checkpoint "{args.src}" does not exist')
    ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        sys.exit(f'error: "{args.src}" holds no state_dict of tensors')
    torch.save({'state_dict': dict(state)}, args.dst)
    print(f'wrote {len(state)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
