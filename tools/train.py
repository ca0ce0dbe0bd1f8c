"""Train a model from a config (MMSegmentation's flags; CPU and GPU)."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'data'))
from light_import import cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser('Train a had_mm model')
    cli.add_config_args(
        parser, config_help='train config file path', cfg_options=False)
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp',
        nargs='?',
        const='auto',
        default=None,
        choices=['auto', 'bf16', 'fp16'],
        help='mixed precision, losses in fp32. --amp (auto): bfloat16 on '
        'GPUs that have it, else fp16 with dynamic loss scaling; on a CPU '
        'bfloat16 where it has AMX or avx512_bf16, else skipped. --amp '
        'bf16 / --amp fp16 choose explicitly')
    cli.add_cfg_options(parser)
    cli.add_launcher_arg(parser)
    return cli.parse_launched(parser, argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from had_mm.apis import (CheckpointLoadError, build_runner,
                             exit_on_bad_input, load_tool_config,
                             lock_work_dir)
    with exit_on_bad_input():
        cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                               args.launcher)
        # one training run per work dir at a time
        lock = lock_work_dir(cfg.work_dir, args.launcher)
    try:
        with exit_on_bad_input():
            cfg.resume = args.resume
            runner = build_runner(cfg, amp=args.amp, for_training=True)
        with exit_on_bad_input((CheckpointLoadError, )):
            runner.train()
    finally:
        lock.release()


if __name__ == '__main__':
    main()
