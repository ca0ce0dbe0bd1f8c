"""Pre-flight checks of tools/dist_train.sh and tools/dist_test.sh.

Run with the interpreter the launch will use, before torchrun starts, so
that each of these is one ``error:`` line instead of a late failure:

- the interpreter cannot import torch (set ``PYTHON``);
- NVIDIA GPUs that torch cannot use (a CPU build, an old driver), which
  would otherwise train on the CPU;
- more processes per node than this machine can run (GPUs: the visible
  count; no GPU: the CPU cores), which would otherwise start them all;
- the rendezvous port is in use (set ``PORT``);
- with ``--tool``, the tool's arguments, the config, that its data sets
  exist and (training) its pretrained weights, fetched once here.

Exit status 2 on a problem, 0 otherwise.
"""
import argparse
import errno
import importlib.util
import os
import os.path as osp
import socket
import sys

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('nproc', type=int, help='processes on this node')
    parser.add_argument('--port', type=int, default=29500)
    parser.add_argument('--node-rank', type=int, default=0)
    parser.add_argument('--master-addr', default='127.0.0.1')
    parser.add_argument(
        '--tool',
        choices=['train', 'test'],
        help='also check the arguments after -- for tools/<tool>.py')
    argv = list(sys.argv[1:] if argv is None else argv)
    # after `--`: the arguments of tools/<tool>.py, taken as they are
    split = argv.index('--') if '--' in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.tool_args = argv[split + 1:]
    return args


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
            f'GPUS={nproc}, but torch sees no GPU on this machine; run on a '
            f'machine with {nproc} GPUs, or pass at most {num_cpus} (its CPU '
            f'cores) to train on the CPU (gloo).')


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
    from had_mm.utils.dist_env import check_gpus_usable
    try:
        check_gpus_usable()
        num_gpus = torch.cuda.device_count()
        check_resources(args.nproc, num_gpus, usable_cpus())
        if args.node_rank == 0:  # the rendezvous runs on node 0
            check_port(args.port)
    except RuntimeError as err:
        sys.exit(f'error: {err}')
    if args.tool:
        check_tool_input(args.tool, args.tool_args)


def check_tool_input(tool: str, tool_args: list) -> None:
    """Parse ``tool_args`` as tools/<tool>.py does and check its input once
    (:func:`had_mm.apis.check_before_launch`); exit 2 with one line."""
    spec = importlib.util.spec_from_file_location(
        f'had_mm_tools_{tool}', osp.join(TOOLS, f'{tool}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = module.parse_args(tool_args)  # argparse exits 2 on a bad flag
    from had_mm.apis import check_before_launch, exit_on_bad_input
    from had_mm.checkpoint import check_checkpoint_path
    with exit_on_bad_input():
        if tool == 'test':
            check_checkpoint_path(args.checkpoint)
        check_before_launch(
            args.config,
            args.cfg_options,
            for_training=tool == 'train',
            resume=getattr(args, 'resume', False))


if __name__ == '__main__':
    main()
