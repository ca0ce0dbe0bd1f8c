"""Distributed launch on machines with or without GPUs.

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its DDP
wrapper passes ``device_ids=[LOCAL_RANK]``; neither works on a CPU-only
machine. :func:`prepare_distributed` initialises a gloo process group itself
there (mmengine then skips its own initialisation) and builds DDP without
device ids. With GPUs, mmengine's behaviour (NCCL, one process per GPU) is
left unchanged.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

TORCHRUN_ENV = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                'MASTER_PORT')


def check_launcher_env(launcher: str) -> None:
    """Fail early when ``--launcher pytorch`` runs outside torchrun.

    Args:
        launcher (str): The ``--launcher`` value.

    Raises:
        RuntimeError: If torchrun's environment variables are missing.
    """
    if launcher != 'pytorch':
        return
    missing = [name for name in TORCHRUN_ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch needs the environment torchrun sets '
            f'(missing: {", ".join(missing)}); start with '
            f'`tools/dist_train.sh CONFIG GPUS` or `torchrun --nproc-per-node '
            f'N tools/train.py CONFIG --launcher pytorch`.')


def prepare_distributed(cfg: Config, launcher: str) -> bool:
    """Make ``cfg`` launchable on this machine; set up gloo on CPU.

    Args:
        cfg (Config): The full config; ``env_cfg`` and ``model_wrapper_cfg``
            are updated in place on CPU-only machines.
        launcher (str): The ``--launcher`` value.

    Returns:
        bool: True if a CPU (gloo) process group was initialised here.
    """
    check_launcher_env(launcher)
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} on a machine without GPUs is not '
            f'supported; use --launcher pytorch (tools/dist_train.sh).')
    cfg.setdefault('env_cfg', {})
    cfg.env_cfg.setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    # An explicit None overrides the runner's default [LOCAL_RANK].
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True
