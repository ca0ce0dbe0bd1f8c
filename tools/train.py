"""Train a model from a config (MMSegmentation's flags; CPU and GPU)."""
import argparse
import os

from mmengine.config import DictAction


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
        nargs='?',
        const='auto',
        default=None,
        choices=['auto', 'bf16', 'fp16'],
        help='mixed precision, losses in fp32. --amp (auto): bfloat16 on '
        'GPUs that have it, else fp16 with dynamic loss scaling; on a CPU '
        'bfloat16 where it has AMX or avx512_bf16, else skipped. --amp '
        'bf16 / --amp fp16 choose explicitly')
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
