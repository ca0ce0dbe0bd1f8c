"""Train a model from a config (MMSegmentation's flags; CPU and GPU)."""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.logging import print_log


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a had_mm model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision (skipped on CPU)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value (xxx=yyy)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from had_mm.apis import build_runner, load_config
    from had_mm.engine import CheckpointLoadError
    try:
        cfg = load_config(args.config, args.cfg_options)
        cfg.launcher = args.launcher
        if args.work_dir is not None:
            cfg.work_dir = args.work_dir
        elif cfg.get('work_dir', None) is None:
            cfg.work_dir = osp.join('./work_dirs',
                                    osp.splitext(osp.basename(args.config))[0])
        cfg.resume = args.resume
        runner = build_runner(cfg, amp=args.amp, for_training=True)
    except (FileNotFoundError, ValueError, RuntimeError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print_log(f'error: {msg}', logger='current', level=logging.ERROR)
        sys.exit(2)
    try:
        runner.train()
    except CheckpointLoadError as err:
        print_log(f'error: {err}', logger='current', level=logging.ERROR)
        sys.exit(2)


if __name__ == '__main__':
    main()
