"""Test (evaluate) a checkpoint on a config's test set (CPU and GPU)."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'data'))
from light_import import cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser('Test a had_mm model')
    cli.add_config_args(
        parser, config_help='test config file path', cfg_options=False)
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save logs and evaluation results')
    parser.add_argument(
        '--out',
        help='the dir to save output predictions as files (every test '
        'metric writes its own: multi-task metrics as the inferencer, '
        '<image>_<task>.png/.npy; mmseg\'s IoUMetric one PNG per image)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory (relative to the work dir) where painted images '
        'will be saved')
    parser.add_argument(
        '--show-interval',
        type=int,
        default=1,
        metavar='K',
        help='with --show/--show-dir, draw every K-th test image (default '
        '1: every image)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--partial-load',
        action='store_true',
        help='load only the checkpoint weights that fit the model and warn '
        'about the rest (default: refuse a checkpoint that does not fit)')
    cli.add_cfg_options(parser)
    cli.add_launcher_arg(parser)
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    return cli.parse_launched(parser, argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from had_mm.apis import (CheckpointLoadError, build_runner,
                             enable_visualization, exit_on_bad_input,
                             load_tool_config, set_test_output_dir)
    from had_mm.checkpoint import check_checkpoint_path
    with exit_on_bad_input():
        check_checkpoint_path(args.checkpoint)
        cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                               args.launcher)
        cfg.load_from = args.checkpoint
        # a checkpoint of another config must not be scored with random
        # weights in place of the ones it lacks
        cfg.strict_load = not args.partial_load
        # a lifelong checkpoint may not have trained every scored head
        phases = (cfg.get('train_cfg') or {}).get('phases')
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='had_mm.UntrainedHeadsHook', phases=phases)
        ]
        # Testing needs no training set-up; mmengine would otherwise build
        # the train loop (and its data) when a hook reads runner.iter.
        for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                    'param_scheduler'):
            cfg[key] = None
        if args.show or args.show_dir:
            enable_visualization(cfg, args.show, args.show_dir, args.wait_time,
                                 args.show_interval)
        if args.tta:
            if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
                raise ValueError(
                    f'--tta: {args.config} defines no tta_pipeline / '
                    'tta_model; test-time augmentation is offered by the '
                    'semantic-segmentation dataset bases (e.g. configs/'
                    '_base_/datasets/synthetic_rooms_seg.py), not by '
                    'multi-task configs')
            cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
            cfg.tta_model.module = cfg.model
            cfg.model = cfg.tta_model
        if args.out is not None:
            set_test_output_dir(cfg, args.out)
        runner = build_runner(cfg)
    with exit_on_bad_input((CheckpointLoadError, )):
        runner.test()


if __name__ == '__main__':
    main()
