# Copyright (c) had_mm contributors. All rights reserved.
"""Predict every task of a had_mm model on your own images.

Example::

    python demo/image_demo.py room.png \\
        configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py \\
        work_dirs/demo/phase_4_saliency.pth --out-dir outputs

writes, per image, the panel PNG (the image with the predicted class
boundaries, then one panel per task, each named, with its key: the classes
drawn, depth in metres, the normal axes) to ``OUT_DIR/vis/<name>.png``
and the predictions to ``OUT_DIR/pred/`` (semantic palette PNG, depth
16-bit PNG in mm and ``.npy`` in metres, normal RGB PNG, saliency PNG).
``IMG`` may be a folder. The tasks default to those the checkpoint has
learnt. Outputs are named after the image's file name without its
extension, or with it (``chelsea_jpg``, ``chelsea_png``) where two images
share a name.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(
    0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'tools', 'data'))
from light_import import cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser('Run a had_mm model on images: panel PNG and '
                            'prediction files per image.')
    parser.add_argument('img', help='an image file or a folder of images')
    cli.add_config_args(
        parser, config_help='config file of the model', cfg_options=False)
    parser.add_argument(
        'checkpoint',
        help='checkpoint file (e.g. a lifelong run\'s phase_<t>_<task>.pth)')
    parser.add_argument(
        '--tasks',
        nargs='+',
        help='tasks to predict, among the model\'s (default: every task the '
        'checkpoint has learnt; a task it has not learnt is refused, see '
        '--allow-untrained)')
    parser.add_argument(
        '--allow-untrained',
        action='store_true',
        help='predict --tasks that the checkpoint has not trained (e.g. '
        'depth with a lifelong phase_1 checkpoint), with a warning')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/image_demo',
        help='output folder (default: work_dirs/image_demo)')
    parser.add_argument(
        '--device',
        default=None,
        help='device: cpu, cuda or cuda:N (default: a GPU if there is one)')
    parser.add_argument(
        '--no-pred',
        action='store_true',
        help='write only the panels, not the prediction files')
    cli.add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Run the demo; one ``error:`` line and exit status 2 on bad input."""
    args = parse_args(argv)
    # before importing had_mm (seconds), for a quick clear answer
    for what, path in (('image', args.img), ('config file', args.config),
                       ('checkpoint', args.checkpoint)):
        cli.require_file(path, what, folder_ok=True)
    from had_mm.apis import MultiTaskInferencer, exit_on_bad_input
    with exit_on_bad_input():
        inferencer = MultiTaskInferencer(
            args.config,
            args.checkpoint,
            tasks=args.tasks,
            device=args.device,
            allow_untrained=args.allow_untrained,
            cfg_options=args.cfg_options)
        inferencer(
            args.img,
            out_dir=args.out_dir,
            pred_out_dir='' if args.no_pred else 'pred')
    num = inferencer.num_inputs
    print(
        f'{num} image(s), tasks: {", ".join(args.tasks or inferencer.tasks)}')
    print(f'panels: {osp.join(args.out_dir, "vis")}/')
    if not args.no_pred:
        print(f'predictions: {osp.join(args.out_dir, "pred")}/')


if __name__ == '__main__':
    main()
