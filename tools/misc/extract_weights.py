"""Extract the weights of a foreign checkpoint into a weights-only file.

Some checkpoints (from older codebases) need full unpickling, which had_mm
refuses to do. Run this once on such a checkpoint: it reads the file with a
restricted unpickler (:func:`had_mm.checkpoint.read_foreign_checkpoint`)
that rebuilds tensors and puts an inert stand-in in place of every other
object, so none of the file's code runs, and saves only its ``state_dict``
tensors, which then load safely anywhere.
"""
import argparse
import os.path as osp
import sys


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint to read')
    parser.add_argument('dst', help='weights-only checkpoint to write')
    args = parser.parse_args(argv)
    if not osp.isfile(args.src):
        sys.exit(f'error: checkpoint "{args.src}" does not exist')
    import torch

    from had_mm.checkpoint import (CheckpointLoadError, foreign_tensors,
                                   read_foreign_checkpoint)
    try:
        state, skipped = foreign_tensors(
            read_foreign_checkpoint(args.src), args.src)
    except (CheckpointLoadError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    torch.save({'state_dict': state}, args.dst)
    if skipped:
        print(f'skipped {len(skipped)} entries of the state_dict that are '
              f'no tensors (first: "{skipped[0]}")')
    print(f'wrote {len(state)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
