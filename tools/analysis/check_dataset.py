"""Read every file of a config's data sets once and report what is wrong.

Example::

    python tools/analysis/check_dataset.py \\
        configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py

builds the ``train``, ``val`` and ``test`` dataloaders' data sets (``--splits``
to choose) and runs their loading transforms over every sample: image and
label sizes, dtypes (e.g. an 8-bit depth PNG; an image ``.npy`` that is not
uint8 0-255 or float in [0, 1], such as a float one in 0-255), class range
(reported as the value stored in the file), finiteness (NaN in an image
``.npy``), truncated or undecodable files. Prints, per split, the image
count and sizes and the fraction of valid label pixels per task; a split
with no valid pixel of a task is an error. Exit status 2 with one
``error:`` line naming the first bad file. The lifelong loop runs the same
check before training (``train_cfg.check_data``).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'data'))
from light_import import cli  # noqa: E402

SPLITS = ('train', 'val', 'test')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser(__doc__.splitlines()[0])
    cli.add_config_args(parser, cfg_options=False)
    parser.add_argument(
        '--splits',
        nargs='+',
        choices=SPLITS,
        default=list(SPLITS),
        help='dataloaders whose data sets to check (default: all three)')
    cli.add_cfg_options(parser)
    return parser.parse_args(argv)


def check_config_datasets(config: str,
                          splits: List[str],
                          cfg_options: Optional[dict] = None) -> List[str]:
    """Check the data sets of a config's dataloaders.

    Args:
        config (str): The config file.
        splits (list[str]): Among ``'train'``, ``'val'``, ``'test'``.
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        list[str]: One summary line per split checked.

    Raises:
        ValueError: Naming the first bad file, or a split and task without
            any valid label pixel.
    """
    from mmengine.registry import init_default_scope

    from had_mm.apis import load_config
    from had_mm.datasets.dataset_check import check_dataset, check_valid_pixels
    from had_mm.registry import DATASETS

    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'had_mm'))
    lines, done = [], {}
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or 'dataset' not in loader:
            continue
        key = repr(loader['dataset'])
        if key in done:  # e.g. test_dataloader = val_dataloader
            lines.append(f'{split}: as {done[key]}')
            continue
        done[key] = split
        dataset = DATASETS.build(loader['dataset'])
        summary = check_dataset(dataset, f'the {split} set')
        check_valid_pixels(summary, list(summary['pixels']),
                           f'the {split} set')
        sizes = ', '.join(f'{h}x{w}' for h, w in summary['sizes'][:4])
        if len(summary['sizes']) > 4:
            sizes += f' and {len(summary["sizes"]) - 4} more'
        valid = ', '.join(
            f'{task} {100.0 * summary["valid_pixels"][task] / n:.1f}%'
            for task, n in summary['pixels'].items() if n)
        lines.append(f'{split}: {summary["images"]} images ({sizes}); '
                     f'valid label pixels: {valid or "no labels loaded"}')
    return lines


def main(argv: Optional[List[str]] = None) -> None:
    """Run the tool; one ``error:`` line and exit status 2 on bad data."""
    args = parse_args(argv)
    cli.require_file(args.config)
    from had_mm.apis import exit_on_bad_input
    with exit_on_bad_input():
        lines = check_config_datasets(args.config, args.splits,
                                      args.cfg_options)
    for line in lines:
        print(line)
    print('all files read: no problem found')


if __name__ == '__main__':
    main()
