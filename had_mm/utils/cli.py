# Copyright (c) had_mm contributors. All rights reserved.
"""What the command-line scripts share: their parser, the ``config`` and
``--cfg-options`` arguments, the launcher arguments of ``tools/train.py``
and ``tools/test.py``, the one-line ``error:`` exit, and the options of
the benchmark grids' drivers.

The scripts under ``tools/``, ``demo/``, ``benchmarks/`` and
``projects/*/`` follow one contract:

- ``parse_args(argv=None) -> argparse.Namespace`` parses ``argv``
  (``sys.argv[1:]`` when None) with a parser from :func:`new_parser`, and
  leaves argparse's usage errors (exit status 2) as they are;
- ``main(argv=None)`` runs the script; bad input ends in one
  ``error: ...`` line on stderr and exit status 2 (:func:`exit_error`),
  checked before the heavy imports where it can be (:func:`require_file`),
  so that a typo is answered at once.

Why here, and why stdlib only: importing ``had_mm`` runs its
``__init__``, which registers every module (seconds; mmseg, torch). The
benchmarks import ``had_mm`` anyway and use ``had_mm.utils.cli`` as any
module. The light scripts (the tools, the demo), whose ``--help`` and
argument errors should stay instant, load this one file without its
package: they put ``tools/data`` on ``sys.path`` and
``from light_import import cli``, the loader through which the data tools
already import the NumPy-only data set modules (one loader, and no copy
of this module beside the tools). So this module imports nothing but the
standard library at module level: mmengine's ``DictAction`` is imported
only when ``--cfg-options`` is added, where the scripts imported it
anyway (the data tools, which never import mmengine, do not add it).
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, NoReturn, Optional, Sequence, Union

#: The help of ``--cfg-options`` in most scripts.
CFG_OPTIONS_HELP = 'override settings in the config, key=value (xxx=yyy)'
#: The ``--launcher`` choices of mmengine's runner.
LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def new_parser(description: str) -> argparse.ArgumentParser:
    """The parser of a script's ``parse_args(argv=None)``.

    See the module docstring for the contract: ``argv`` None reads
    ``sys.argv[1:]``; a usage error exits with status 2 (argparse's).

    Args:
        description (str): What the script does (``--help``'s first
            paragraph); often ``__doc__.splitlines()[0]``.

    Returns:
        argparse.ArgumentParser: A parser without arguments yet.
    """
    return argparse.ArgumentParser(description=description)


def add_cfg_options(parser: argparse.ArgumentParser,
                    help: str = CFG_OPTIONS_HELP) -> None:
    """Add ``--cfg-options key=value ...``, parsed into a dict.

    Args:
        parser (argparse.ArgumentParser): The parser.
        help (str): The option's help. Defaults to
            :data:`CFG_OPTIONS_HELP`.
    """
    # mmengine only now: a light script's import stays stdlib-only
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help=help)


def add_config_args(parser: argparse.ArgumentParser,
                    config_help: str = 'config file path',
                    cfg_options: bool = True) -> None:
    """Add the ``config`` positional and, by default, ``--cfg-options``.

    Call it where the ``config`` positional goes among the positionals
    (it is the first of most scripts); a script whose ``--cfg-options``
    comes later in its ``--help`` passes ``cfg_options=False`` and calls
    :func:`add_cfg_options` there.

    Args:
        parser (argparse.ArgumentParser): The parser.
        config_help (str): The help of ``config``. Defaults to
            ``'config file path'``.
        cfg_options (bool): Whether to add ``--cfg-options`` too, with
            :data:`CFG_OPTIONS_HELP`. Defaults to True.
    """
    parser.add_argument('config', help=config_help)
    if cfg_options:
        add_cfg_options(parser)


def add_launcher_arg(parser: argparse.ArgumentParser) -> None:
    """Add mmengine's ``--launcher`` (default ``none``).

    Args:
        parser (argparse.ArgumentParser): The parser.
    """
    parser.add_argument(
        '--launcher',
        choices=list(LAUNCHERS),
        default='none',
        help='job launcher')


def parse_launched(parser: argparse.ArgumentParser,
                   argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Add ``--local_rank``, parse ``argv`` and export ``LOCAL_RANK``.

    ``torch.distributed.launch`` passes ``--local-rank`` (older versions
    ``--local_rank``); torchrun sets ``LOCAL_RANK`` itself, which is kept.

    Args:
        parser (argparse.ArgumentParser): The script's parser, every
            other argument added.
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` if None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def exit_error(message: Union[str, Exception], status: int = 2) -> NoReturn:
    """Print ``error: <message>`` to stderr and exit.

    Args:
        message (str | Exception): The line, without ``error:`` (an
            exception prints as ``str(exception)``).
        status (int): The exit status. Defaults to 2 (bad input).
    """
    print(f'error: {message}', file=sys.stderr)
    sys.exit(status)


def require_file(path: str,
                 what: str = 'config file',
                 folder_ok: bool = False) -> None:
    """Exit with ``error: <what> "<path>" does not exist`` (status 2) when
    ``path`` is not a file.

    The scripts check their input files first, before importing had_mm
    (seconds), so that a typo is answered at once.

    Args:
        path (str): The path given on the command line.
        what (str): What it is, as the message names it. Defaults to
            ``'config file'``.
        folder_ok (bool): Accept a folder too (an input that may be a
            folder of images). Defaults to False.
    """
    if not (osp.exists(path) if folder_ok else osp.isfile(path)):
        exit_error(f'{what} "{path}" does not exist')


def add_grid_args(parser: argparse.ArgumentParser, work_dir: str,
                  data_root_help: str) -> None:
    """Add the options of a benchmark grid's driver, in this order:
    ``--jobs``, ``--threads``, ``--data-root``, ``--work-dir``,
    ``--results-dir`` and ``--report-only``.

    Args:
        parser (argparse.ArgumentParser): The driver's parser.
        work_dir (str): The default of ``--work-dir``.
        data_root_help (str): The help of ``--data-root``.
    """
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument(
        '--threads', type=int, default=1, help='threads per training run')
    parser.add_argument('--data-root', help=data_root_help)
    parser.add_argument('--work-dir', default=work_dir)
    # the default is the driver's, see fill_grid_defaults
    parser.add_argument(
        '--results-dir',
        help='default: benchmarks/results (the work dir with --quick)')
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='tabulate the finished runs, train nothing')


def fill_grid_defaults(args: argparse.Namespace,
                       quick: dict,
                       protocol: dict,
                       results_dir: str,
                       keys: Optional[Sequence[str]] = None) -> dict:
    """Give the grid options left unset their ``--quick`` or protocol
    value, and ``--results-dir`` its default.

    A smoke run (``--quick``) writes its results into its work dir, so
    that it never overwrites the committed ones.

    Args:
        args (argparse.Namespace): The parsed options, with ``quick``,
            ``work_dir`` and ``results_dir``; changed in place.
        quick (dict): The values of ``--quick``, by option.
        protocol (dict): The protocol's values, by option.
        results_dir (str): Where a full run writes its results.
        keys (Sequence[str], optional): The options to fill. Defaults to
            every key of ``quick`` / ``protocol``.

    Returns:
        dict: ``quick`` or ``protocol``, the one used.
    """
    defaults = quick if args.quick else protocol
    for key in defaults if keys is None else keys:
        if getattr(args, key) is None:
            setattr(args, key, defaults[key])
    if args.results_dir is None:
        args.results_dir = args.work_dir if args.quick else results_dir
    return defaults
