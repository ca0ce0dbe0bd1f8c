# Copyright (c) had_mm contributors. All rights reserved.
"""Print a config as had_mm resolves it: ``_base_`` files merged,
``--cfg-options`` applied, types checked.

Example::

    python tools/misc/print_config.py \\
        configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py \\
        --cfg-options train_cfg.distill_weight=1 --save-path resolved.py
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'data'))
from light_import import cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser('Print the resolved config')
    cli.add_config_args(parser)
    parser.add_argument(
        '--save-path',
        help='also write the resolved config (.py, .json or .yaml)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Run the tool; one ``error:`` line and exit status 2 on bad input."""
    args = parse_args(argv)
    cli.require_file(args.config)
    formats = ('.py', '.json', '.yaml', '.yml')
    if args.save_path and not args.save_path.endswith(formats):
        cli.exit_error(f'--save-path "{args.save_path}" must end in .py, '
                       '.json or .yaml')
    from had_mm.apis import exit_on_bad_input, load_config
    with exit_on_bad_input():
        cfg = load_config(args.config, args.cfg_options)
        if args.save_path:
            cfg.dump(args.save_path)
    print(cfg.pretty_text)
    if args.save_path:
        print(f'\nsaved to {args.save_path}', file=sys.stderr)


if __name__ == '__main__':
    main()
