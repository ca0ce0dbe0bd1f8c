"""Distributed launch on machines with or without GPUs.

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its DDP
wrapper passes ``device_ids=[LOCAL_RANK]``; neither works on a CPU-only
machine. :func:`prepare_distributed` initialises a gloo process group itself
there (mmengine then skips its own initialisation) and builds DDP without
device ids. With GPUs, mmengine's behaviour (NCCL, one process per GPU) is
left unchanged.

A machine whose NVIDIA GPUs torch cannot use (a CPU build of torch, or a
driver older than torch's CUDA) is refused rather than trained on the CPU
(:func:`check_gpus_usable`).
"""
import glob
import logging
import os
import shutil
import signal
import subprocess
from typing import Callable, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import broadcast_object_list, get_rank, is_distributed
from mmengine.logging import print_log

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


def nvidia_driver() -> Optional[str]:
    """The NVIDIA driver version of this machine, or None without one.

    Read from ``/proc/driver/nvidia/version`` or ``nvidia-smi``; a machine
    with ``/dev/nvidia*`` devices but neither gives ``'unknown'``.
    """
    try:
        with open('/proc/driver/nvidia/version') as f:
            for word in f.readline().split():
                if word[:1].isdigit() and '.' in word:
                    return word
    except OSError:
        pass
    if shutil.which('nvidia-smi'):
        try:
            out = subprocess.run([
                'nvidia-smi', '--query-gpu=driver_version',
                '--format=csv,noheader'
            ],
                                 capture_output=True,
                                 text=True,
                                 timeout=20).stdout.split()
        except (OSError, subprocess.SubprocessError):
            out = []
        return out[0] if out else 'unknown'
    return 'unknown' if glob.glob('/dev/nvidia[0-9]*') else None


def check_gpus_usable(driver: Optional[str] = None) -> None:
    """Refuse a machine with NVIDIA GPUs that torch cannot use.

    Such a machine would otherwise train on the CPU (gloo) while the log
    counts "GPU number: N". ``CUDA_VISIBLE_DEVICES=`` (empty) asks for the
    CPU on purpose and is let through.

    Args:
        driver (str, optional): The driver version; read from the machine
            (:func:`nvidia_driver`) when None.

    Raises:
        RuntimeError: One line naming torch's CUDA version and the driver.
    """
    if torch.cuda.is_available() or os.environ.get(
            'CUDA_VISIBLE_DEVICES') == '':
        return
    driver = driver or nvidia_driver()
    if driver is None:
        return
    cuda = torch.version.cuda
    built = f'CUDA {cuda}' if cuda else 'no CUDA (a CPU build)'
    raise RuntimeError(
        f'this machine has NVIDIA GPUs (driver {driver}) but torch '
        f'{torch.__version__} ({built}) cannot use them; install a torch '
        f'whose CUDA this driver supports (`nvidia-smi` shows the newest '
        f'CUDA it runs), or set CUDA_VISIBLE_DEVICES= to train on the CPU '
        f'on purpose.')


def die_with_parent() -> None:
    """Make this rank end when its launcher (torchrun) dies, even by
    SIGKILL, instead of training on as an orphan (Linux only)."""
    try:
        import ctypes
        libc = ctypes.CDLL('libc.so.6', use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def run_on_rank0(fn: Callable[[], None]) -> None:
    """Run a check once, on rank 0, and raise its error on every rank.

    Reading every data file once per rank would multiply the cost by the
    number of ranks for the same answer.

    Args:
        fn (callable): A check that raises on a problem.
    """
    if not is_distributed():
        fn()
        return
    error = [None]
    if get_rank() == 0:
        try:
            fn()
        except Exception as err:  # handed to every rank, raised there
            error[0] = err
    broadcast_object_list(error, src=0)
    if error[0] is not None:
        raise error[0]


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
    if launcher == 'none':
        return False
    check_gpus_usable()
    if launcher == 'pytorch':
        die_with_parent()
    if torch.cuda.is_available():
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
    print_log(
        f'no GPU: {torch_dist.get_world_size()} processes on the CPU (gloo); '
        f'mmengine\'s "GPU number" below counts these processes.',
        logger='current',
        level=logging.INFO)
    return True
