# Copyright (c) had_mm contributors. All rights reserved.
"""Write the first images of a config's data set with their label panels.

Example::

    python tools/analysis/browse_dataset.py \\
        configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py \\
        --num 8 --split train

builds the config's ``train_dataloader`` (or ``test_dataloader``) data set,
runs its pipeline (so random augmentations show as in training) and writes
one PNG per image under ``--output-dir``: the image and the label panel of
each loaded task (semantic colours, depth colour map, normal RGB, saliency),
each named, with its key below (the classes drawn, depth in metres, the
normal axes), as :class:`MultiTaskLocalVisualizer` draws them. ``--bare``
writes the panels alone, at the image's resolution. Invalid label pixels
are black.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

from mmengine.logging import print_log

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'data'))
from light_import import cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser(
        'Browse a had_mm data set: write the pipeline output of the first '
        'images (image + one label panel per task) as PNGs.')
    cli.add_config_args(parser, cfg_options=False)
    parser.add_argument(
        '--output-dir',
        help='where to write the PNGs (default: '
        'work_dirs/browse_dataset/<config name>)')
    parser.add_argument(
        '--num',
        type=int,
        default=8,
        help='number of images to write (default: 8; fewer if the data set '
        'is smaller)')
    parser.add_argument(
        '--split',
        choices=('train', 'test'),
        default='train',
        help='browse the train_dataloader or the test_dataloader data set '
        '(default: train)')
    parser.add_argument(
        '--bare',
        action='store_true',
        help='write the panels alone at the image\'s resolution, without '
        'the task names and keys')
    cli.add_cfg_options(parser)
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f'--num must be >= 1, got {args.num}')
    return args


def build_dataset(config: str, split: str, cfg_options: Optional[dict] = None):
    """Build the data set of a config's train or test dataloader.

    Args:
        config (str): The config file.
        split (str): ``'train'`` or ``'test'``.
        cfg_options (dict, optional): ``--cfg-options`` overrides.

    Returns:
        The data set, with its pipeline.

    Raises:
        FileNotFoundError: If the config (or its data) does not exist.
        KeyError: If the config has no such dataloader.
    """
    from mmengine.registry import init_default_scope

    from had_mm.apis import load_config
    from had_mm.registry import DATASETS
    from had_mm.utils import register_all_modules

    if not osp.isfile(config):
        raise FileNotFoundError(f'config file "{config}" does not exist')
    cfg = load_config(config, cfg_options)
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'had_mm'))
    key = f'{split}_dataloader'
    loader = cfg.get(key)
    if not loader or 'dataset' not in loader:
        raise KeyError(f'config "{config}" has no {key}.dataset to browse')
    return DATASETS.build(loader['dataset'])


def browse(dataset,
           output_dir: str,
           num: int,
           bare: bool = False) -> List[str]:
    """Write the panels of the first ``num`` samples of ``dataset``.

    Args:
        dataset: A data set whose items are ``PackMultiTaskInputs`` outputs.
        output_dir (str): Output folder (created).
        num (int): Number of images.
        bare (bool): The panels alone, without names and keys.

    Returns:
        list[str]: The written files.
    """
    import mmcv

    from had_mm.visualization import MultiTaskLocalVisualizer

    visualizer = MultiTaskLocalVisualizer.get_instance('had_mm_browse_dataset')
    visualizer.dataset_meta = dict(dataset.metainfo)
    os.makedirs(output_dir, exist_ok=True)
    written = []
    for i in range(min(num, len(dataset))):
        item = dataset[i]
        sample = item['data_samples']
        # PackMultiTaskInputs keeps LoadMultiTaskImage's BGR order.
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]
        draw = visualizer.draw_panels if bare else visualizer.draw_labelled
        grid = draw(image, sample)
        name = str(sample.metainfo.get('sample_id', i))
        path = osp.join(output_dir, f'{i:04d}_{name}.png')
        mmcv.imwrite(mmcv.rgb2bgr(grid), path)
        written.append(path)
    return written


def main(argv: Optional[List[str]] = None) -> None:
    """Run the tool; one ``error:`` line and exit status 2 on bad input."""
    args = parse_args(argv)
    cli.require_file(args.config)
    output_dir = args.output_dir or osp.join(
        'work_dirs', 'browse_dataset',
        osp.splitext(osp.basename(args.config))[0])
    try:
        dataset = build_dataset(args.config, args.split, args.cfg_options)
        written = browse(dataset, output_dir, args.num, args.bare)
    except (FileNotFoundError, ValueError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        cli.exit_error(msg)
    print_log(
        f'wrote {len(written)} {args.split} image(s) to {output_dir}',
        logger='current')


if __name__ == '__main__':
    main()
