"""Extract the student of a distillation checkpoint for tools/test.py.

Reads a checkpoint written while training a ``HeteroAKDDistiller`` (e.g.
``work_dirs/X/iter_1000.pth``) and writes a weights-only checkpoint whose
``state_dict`` is the student alone, ``student.`` prefix stripped, so that it
loads into the plain student config with strict key match::

    python tools/misc/extract_student.py work_dirs/X/iter_1000.pth S.pth
    python tools/test.py STUDENT_CONFIG S.pth

The student's projectors go under the separate key ``student_adapter``; the
teacher's are dropped unless ``--keep-teacher-adapter`` (key
``teacher_adapter``). The teacher itself is never in a distiller checkpoint.
"""
import argparse
import os.path as osp
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint of a HeteroAKDDistiller')
    parser.add_argument('dst', help='student-only checkpoint to write')
    parser.add_argument(
        '--keep-teacher-adapter',
        action='store_true',
        help='keep the teacher projectors under the key "teacher_adapter"')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.src):
        sys.exit(f'error: checkpoint "{args.src}" does not exist')
    import torch

    from had_mm.checkpoint import load_weights
    from had_mm.engine.distill import student_checkpoint
    try:
        state = load_weights(args.src)
        ckpt = student_checkpoint(
            state,
            meta=dict(extracted_from=osp.abspath(args.src)),
            keep_teacher_adapter=args.keep_teacher_adapter)
    except (RuntimeError, ValueError) as err:
        sys.exit(f'error: {args.src}: {err}')
    torch.save(ckpt, args.dst)
    extra = [k for k in ckpt if k not in ('state_dict', 'meta')]
    kept = f'; also kept: {", ".join(extra)}' if extra else ''
    print(f'wrote the student ({len(ckpt["state_dict"])} tensors) to '
          f'{args.dst}{kept}')


if __name__ == '__main__':
    main()
