# Copyright (c) had_mm contributors. All rights reserved.
"""Render the procedural "synthetic rooms" data set in the NYUv2 layout.

Example::

    python tools/data/make_synthetic_rooms.py --out data/synthetic_rooms \\
        --num 2000 --size 96 128 --seed 0

writes ``image/``, ``seg13/``, ``depth/``, ``normal/`` and ``saliency/``
(each with ``train/`` and ``test/``) plus ``meta.json`` under ``--out``; the
NYUv2 dataset of had_mm reads it as the "toolkit" layout.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from light_import import cli, load_dataset_module  # noqa: E402

# the generator needs only NumPy and Pillow, not the had_mm package
generate_synthetic_rooms = load_dataset_module(
    'synthetic_rooms').generate_synthetic_rooms


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse and check the command line (see
    :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser(
        'Render procedural indoor scenes ("synthetic rooms") '
        'with exact semantic (NYUv2-13), depth, normal and saliency labels, '
        'written in the NYUv2 toolkit layout.')
    parser.add_argument(
        '--out', required=True, help='output directory (created if missing)')
    parser.add_argument(
        '--num', type=int, required=True, help='number of images (>= 2)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=[96, 128],
        metavar=('H', 'W'),
        help='image height and width in pixels (default: 96 128)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='data set seed; image i depends only on (seed, i) (default: 0)')
    parser.add_argument(
        '--test-fraction',
        type=float,
        default=0.25,
        help='fraction of images in the test split, in (0, 1) '
        '(default: 0.25)')
    parser.add_argument(
        '--no-depth-holes',
        action='store_true',
        help='do not add Kinect-like invalid depth (holes)')
    args = parser.parse_args(argv)
    if args.num < 2:
        parser.error(f'--num must be >= 2 (one train and one test image), '
                     f'got {args.num}')
    if args.size[0] < 1 or args.size[1] < 1:
        parser.error(f'--size must be positive, got {args.size[0]} '
                     f'{args.size[1]}')
    if not 0.0 < args.test_fraction < 1.0:
        parser.error(f'--test-fraction must be in (0, 1), got '
                     f'{args.test_fraction}')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    """Render the data set and print a summary.

    Args:
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` if None.

    Returns:
        dict: The summary of
        :func:`had_mm.datasets.synthetic_rooms.generate_synthetic_rooms`.
    """
    args = parse_args(argv)
    summary = generate_synthetic_rooms(
        args.out,
        args.num,
        size=tuple(args.size),
        seed=args.seed,
        test_fraction=args.test_fraction,
        depth_holes=not args.no_depth_holes)
    h, w = summary['size']
    print(f'Wrote {summary["num"]} synthetic rooms ({h}x{w}, seed '
          f'{summary["seed"]}, depth holes '
          f'{"off" if args.no_depth_holes else "on"}) to '
          f'{osp.abspath(args.out)}: {summary["train"]} train, '
          f'{summary["test"]} test')
    print('  image/ seg13/ depth/ normal/ saliency/ {train,test}/NNNNN.png '
          '+ meta.json')
    print(f'  {summary["seconds"]:.2f} s, '
          f'{summary["images_per_s"]:.1f} images/s')
    return summary


if __name__ == '__main__':
    main()
