"""Pre-flight checks of tools/dist_train.sh and tools/dist_test.sh.

Run with the interpreter the launch will use, before torchrun starts, so
that each of these is one ``error:`` line instead of a late failure:

- the interpreter cannot import torch (set ``PYTHON``);
- more processes per node than this machine can run (GPUs: the visible
  count; no GPU: the CPU cores), which would otherwise start them all;
- the rendezvous port is in use (set ``PORT``).

Exit status 2 on a problem, 0 otherwise. Only torch and the standard
library are imported, so the check is quick.
"""
import argparse
import errno
import os
import socket
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('nproc', type=int, help='processes on this node')
    parser.add_argument('--port', type=int, default=29500)
    parser.add_argument('--node-rank', type=int, default=0)
    parser.add_argument('--master-addr', default='127.0.0.1')
    return parser.parse_args(argv)


def usable_cpus() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_resources(nproc: int, num_gpus: int, num_cpus: int) -> None:
    """Refuse more processes than the machine can run.

    Args:
        nproc (int): Processes asked for on this node (``GPUS``).
        num_gpus (int): Visible GPUs.
        num_cpus (int): Usable CPU cores.

    Raises:
        RuntimeError: One line with the limit.
    """
    if num_gpus > 0 and nproc > num_gpus:
        raise RuntimeError(
            f'GPUS={nproc} but {num_gpus} GPU(s) are visible on this '
            f'machine; pass at most {num_gpus} (one process per GPU).')
    if num_gpus == 0 and nproc > num_cpus:
        raise RuntimeError(
            f'GPUS={nproc} CPU processes but this machine has no GPU and '
            f'{num_cpus} CPU core(s); pass at most {num_cpus}.')


def check_port(port: int) -> None:
    """Refuse a rendezvous port that another process holds.

    Raises:
        RuntimeError: One line naming the port and ``PORT``.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(('', port))
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise
            raise RuntimeError(
                f'port {port} is in use (another run?); set PORT to a free '
                f'port, e.g. PORT={port + 1}.') from None


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        import torch
    except ImportError as err:
        sys.exit(f'error: {sys.executable} cannot import torch ({err}); set '
                 f'PYTHON to the interpreter of the environment with had_mm, '
                 f'e.g. PYTHON=.venv/bin/python (made by tools/setup_env.sh).')
    try:
        check_resources(args.nproc, torch.cuda.device_count(), usable_cpus())
        if args.node_rank == 0:  # the rendezvous runs on node 0
            check_port(args.port)
    except RuntimeError as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
