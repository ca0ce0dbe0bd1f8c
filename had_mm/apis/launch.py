"""What tools/train.py and tools/test.py share: config loading, checks, and
building a runner that works on CPU-only and GPU machines."""
import copy
import logging
import os
import os.path as osp
import socket
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Optional, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger, print_log
from mmengine.runner import Runner

from had_mm.checkpoint import check_checkpoint_path
from had_mm.registry import RUNNERS
from had_mm.utils import (check_config, prepare_distributed,
                          register_all_modules)
from had_mm.utils.cpu_features import cpu_bf16_flag
from had_mm.utils.pretrained_weights import check_pretrained_weights

#: Seconds a rank other than 0 waits before reporting bad input itself.
RANK_ERROR_WAIT = 10

# What bad input raises during set-up (OSError: e.g. a work dir that
# cannot be written).
INPUT_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError)


@contextmanager
def exit_on_bad_input(errors: Tuple[type, ...] = INPUT_ERRORS):
    """Turn the listed errors into one ``error:`` line and exit code 2.

    The tools wrap set-up (config, checks, runner building) in this, so bad
    input never ends in a stack trace; errors raised while training or
    testing are not caught (only checkpoint refusals, see the tools). The
    line goes to stderr, as a command-line tool's, and to the run's log
    file when there is one.
    """
    try:
        yield
    except errors as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        rank = int(os.environ.get('RANK', '0'))
        if rank != 0:
            # rank 0 meets the same input, prints it and exits first (the
            # launcher then stops this rank); a line only this rank meets
            # is printed after the wait
            time.sleep(RANK_ERROR_WAIT)
            print(f'error: [rank {rank}] {msg}', file=sys.stderr, flush=True)
        else:
            report_error(f'error: {msg}')
        sys.exit(2)


def report_error(line: str) -> None:
    """Print ``line`` to stderr and append it to the current log file.

    Under a distributed launch only rank 0 prints: every rank meets the
    same bad input, and the user should read the line once.
    """
    if int(os.environ.get('RANK', '0')) != 0:
        return
    print(line, file=sys.stderr, flush=True)
    if not MMLogger._instance_dict:
        return  # no runner was built: there is no log file yet
    logger = MMLogger.get_current_instance()
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, line,
                               None, None)
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def check_work_dir(work_dir: str) -> None:
    """Create ``work_dir`` and check that files can be written in it.

    Args:
        work_dir (str): The run's work dir.

    Raises:
        OSError: One line naming the folder, if it cannot be created or
            written.
    """
    try:
        os.makedirs(work_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=work_dir):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise OSError(f'work dir "{work_dir}" cannot be written ({reason}); '
                      f'pass a writable --work-dir.') from None


#: The lock file of a work dir while a training run writes it.
WORK_DIR_LOCK = '.had_mm_train.lock'
#: Where each launcher puts the process's global rank.
_RANK_ENV = ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK')


class WorkDirLockedError(RuntimeError):
    """The work dir is being written by another training run."""


class WorkDirLock:
    """The held lock of a work dir; :meth:`release` it when done (the
    operating system releases it when the process ends, however it
    ends)."""

    def __init__(self, path: Optional[str] = None, handle=None) -> None:
        self.path = path
        self._handle = handle

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._handle is not None:
            self._handle.close()  # closing drops the flock
            self._handle = None

    def __enter__(self) -> 'WorkDirLock':
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _launch_rank(launcher: str) -> int:
    """This process's global rank, before any process group exists."""
    if launcher == 'none':
        return 0
    for name in _RANK_ENV:
        value = os.environ.get(name)
        if value is not None and value.strip().isdigit():
            return int(value)
    return 0


def lock_work_dir(work_dir: str, launcher: str = 'none') -> WorkDirLock:
    """Lock ``work_dir`` for one training run, or refuse in one line.

    Rank 0 holds an exclusive ``flock`` on ``<work_dir>/.had_mm_train.lock``
    (with its pid, host and start time written in it) for the whole run;
    the other ranks of the same run lock nothing. A second run on the same
    work dir (e.g. ``--resume`` while the first still trains) is refused
    before it writes anything. The lock dies with the process, so a run
    that was killed leaves no stale lock.

    Args:
        work_dir (str): The run's work dir (it exists: see
            :func:`check_work_dir`).
        launcher (str): The ``--launcher`` value.

    Returns:
        WorkDirLock: The held lock (a no-op one on other ranks, or where
        the platform has no ``fcntl``).

    Raises:
        WorkDirLockedError: If another run holds the lock.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return WorkDirLock()
    if _launch_rank(launcher) != 0:
        return WorkDirLock()
    path = osp.join(work_dir, WORK_DIR_LOCK)
    handle = open(path, 'a+')
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or 'unknown process'
        handle.close()
        raise WorkDirLockedError(
            f'work dir "{work_dir}" is in use by another training run '
            f'({holder}); wait for it to end or stop it, or pass another '
            f'--work-dir') from None
    handle.seek(0)
    handle.truncate()
    handle.write(f'pid {os.getpid()} on {socket.gethostname()}, started '
                 f'{time.strftime("%Y-%m-%d %H:%M:%S")}')
    handle.flush()
    return WorkDirLock(path, handle)


def set_test_output_dir(cfg: Config, out: str) -> None:
    """``tools/test.py --out DIR``: every test metric writes its prediction
    files to ``out``.

    Each metric of ``cfg.test_evaluator`` (a dict, a list, or an
    ``Evaluator`` dict with ``metrics``) gets ``output_dir=out``, as in
    MMSegmentation; a metric that takes no ``output_dir`` is refused by
    name, before anything runs.

    Args:
        cfg (Config): The test config, changed in place.
        out (str): The output folder.

    Raises:
        ValueError: If the config has no test evaluator, or a metric of it
            cannot write prediction files.
    """
    from had_mm.registry import METRICS

    evaluator = cfg.get('test_evaluator')
    if not evaluator:
        raise ValueError('--out: the config has no test_evaluator')
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else \
        [evaluator]
    scope = cfg.get('default_scope', 'had_mm')
    for metric in metrics:
        name = metric.get('type')
        try:
            with METRICS.switch_scope_and_registry(scope) as registry:
                metric_cls = name if isinstance(name, type) else \
                    registry.get(name)
        except (KeyError, ImportError):
            metric_cls = None
        if metric_cls is not None and not _takes_kwarg(metric_cls,
                                                       'output_dir'):
            cls_name = getattr(metric_cls, '__name__', name)
            raise ValueError(
                f'--out: the test metric {cls_name} writes no prediction '
                f'files (it takes no output_dir); drop --out')
        metric['output_dir'] = out


def _takes_kwarg(cls: type, name: str) -> bool:
    """Whether ``cls(...)`` accepts the keyword ``name`` (``**kwargs``
    counts only if a base class in the chain names it)."""
    import inspect
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        params = inspect.signature(init).parameters
        if name in params:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return False
    return False


def load_tool_config(path: str,
                     cfg_options: Optional[dict] = None,
                     work_dir: Optional[str] = None,
                     launcher: str = 'none') -> Config:
    """:func:`load_config` plus the settings shared by train.py/test.py.

    ``work_dir`` priority: the argument, then the config's, then
    ``./work_dirs/<config name>`` (as in MMSegmentation).
    """
    cfg = load_config(path, cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    check_work_dir(cfg.work_dir)
    return cfg


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a config, apply ``--cfg-options`` and check it early.

    Args:
        path (str): The config file.
        cfg_options (dict, optional): Overrides (``--cfg-options``).

    Returns:
        Config: The checked config.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the config names a type no registry knows, or fails
            a check of :func:`~had_mm.utils.check_config` (e.g. a train
            loop argument or lifelong phase that is not valid).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config file "{path}" does not exist; configs live under '
            'configs/ (e.g. configs/had/'
            'had_r18-d8-c64_synthetic-rooms-4tasks.py).')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    register_all_modules(init_default_scope=False)
    problems = check_config(cfg)
    if problems:
        raise ValueError(f'config "{path}": ' + '; '.join(problems))
    return cfg


def check_datasets_exist(
    cfg: Config,
    splits: Tuple[str, ...] = ('train_dataloader', 'val_dataloader')
) -> None:
    """Build the config's data sets without reading them, so that a missing
    ``data_root`` is one line before any process starts.

    Args:
        cfg (Config): A config from :func:`load_config`.
        splits (tuple[str]): The dataloaders whose data sets to build.

    Raises:
        FileNotFoundError: The data set's own one-line message.
        ValueError: Likewise (e.g. a layout that does not fit).
    """
    from mmengine.registry import init_default_scope

    from had_mm.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'had_mm'))
    for split in splits:
        dataset = copy.deepcopy((cfg.get(split) or {}).get('dataset'))
        if not isinstance(dataset, dict) or 'data_root' not in dataset:
            continue  # a wrapper or an in-memory set: the ranks check it
        dataset['lazy_init'] = True
        dataset.pop('pipeline', None)  # transforms are not needed to find
        DATASETS.build(dataset)


def check_before_launch(path: str,
                        cfg_options: Optional[dict] = None,
                        for_training: bool = True,
                        resume: bool = False) -> Config:
    """What ``dist_train.sh`` / ``dist_test.sh`` check once, before they
    start N processes that would each report the same problem.

    The config (:func:`load_config`), that its data sets exist and, for
    training, its pretrained weights, fetched into mmengine's cache if they
    are not there (so the ranks find them).

    Args:
        path (str): The config file.
        cfg_options (dict, optional): ``--cfg-options``.
        for_training (bool): Check the train and val data and the
            pretrained weights; else the test data.
        resume (bool): ``--resume``: the weights come from the run.

    Returns:
        Config: The checked config.
    """
    cfg = load_config(path, cfg_options)
    if for_training:
        check_datasets_exist(cfg)
        if not (resume or cfg.get('load_from')):
            check_pretrained_weights(cfg.model)
    else:
        check_datasets_exist(cfg, ('test_dataloader', ))
    return cfg


def build_runner(cfg: Config,
                 amp: Union[bool, str, None] = None,
                 for_training: bool = False) -> Runner:
    """Build the runner named by ``cfg.runner_type`` (default HADRunner).

    Args:
        cfg (Config): A config from :func:`load_config`.
        amp (bool | str, optional): Mixed precision: ``'auto'`` (or True),
            ``'bf16'`` or ``'fp16'`` (see :func:`_enable_amp`); None or
            False trains in fp32.
        for_training (bool): Also build the train loop now, so that its
            errors (a bad phase list, a missing dataset) come before
            anything runs.

    Returns:
        Runner: The runner, not yet started.
    """
    load_from = cfg.get('load_from')
    if load_from:
        check_checkpoint_path(load_from, 'load_from checkpoint')
    mode = amp_mode(amp)
    if mode is not None:
        _enable_amp(cfg, mode)
    elif (cfg.get('optim_wrapper') or {}).get('type') == 'AmpOptimWrapper':
        _skip_config_amp_on_cpu(cfg)
    prepare_distributed(cfg, cfg.get('launcher', 'none'))
    _allow_tf32(cfg)
    cfg.setdefault('runner_type', 'HADRunner')
    runner_type = cfg.runner_type
    runner_cls = runner_type if isinstance(runner_type, type) else \
        RUNNERS.get(runner_type)
    if runner_cls is None:
        raise ValueError(f'unknown runner_type "{runner_type}"; use '
                         f'HADRunner or a registered Runner.')
    runner = runner_cls.from_cfg(cfg)
    if for_training:
        # built now, so that its config and data checks come before any
        # weight is initialised; runner.train() keeps the built loop
        runner.train_loop
        if not (load_from or cfg.get('resume')):
            # after the data checks, before any weight is initialised; one
            # process per machine fetches, mmengine's loader then finds the
            # file in its cache on every rank
            check_pretrained_weights(
                cfg.model,
                download=int(os.environ.get('LOCAL_RANK', '0')) == 0)
    return runner


#: ``--amp`` values: ``auto`` picks bfloat16 where the device has it.
AMP_MODES = ('auto', 'bf16', 'fp16')


def amp_mode(amp: Union[bool, str, None]) -> Optional[str]:
    """Normalise ``--amp``: False/None -> None, True -> ``'auto'``.

    Raises:
        ValueError: If ``amp`` is not one of :data:`AMP_MODES`.
    """
    if amp is None or amp is False:
        return None
    mode = 'auto' if amp is True else amp
    if mode not in AMP_MODES:
        raise ValueError(f'--amp must be one of {", ".join(AMP_MODES)}, got '
                         f'{amp!r}')
    return mode


def _enable_amp(cfg: Config, mode: str = 'auto') -> None:
    """``--amp [auto|bf16|fp16]``: autocast with losses in float32.

    On a GPU, mmengine's ``AmpOptimWrapper`` with ``bfloat16`` where the GPU
    has it (``auto``) and ``float16`` with dynamic loss scaling otherwise.
    On a CPU, bfloat16 autocast (``CPUAmpOptimWrapper``) where the CPU has
    AMX or avx512_bf16 (read from its feature flags); ``auto`` without them
    trains in fp32 with one log line, and ``fp16`` is refused.
    """
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
        raise ValueError(f'--amp needs optim_wrapper.type "OptimWrapper", '
                         f'but the config sets "{wrapper}".')
    if torch.cuda.is_available():
        bf16 = torch.cuda.is_bf16_supported()
        if mode == 'bf16' and not bf16:
            raise ValueError(
                f'--amp bf16: {torch.cuda.get_device_name()} has no '
                f'bfloat16; use --amp fp16 (or --amp, which picks it).')
        dtype = 'bfloat16' if mode == 'bf16' or (mode == 'auto'
                                                 and bf16) else 'float16'
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = dtype
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        print_log(
            f'--amp: {dtype} autocast on the GPU, losses in float32.',
            logger='current')
        return
    if mode == 'fp16':
        raise ValueError('--amp fp16 needs a GPU; on a CPU use --amp bf16 '
                         '(CPUs with AMX or avx512_bf16).')
    bf16_flag = cpu_bf16_flag()
    if bf16_flag is None:
        if mode == 'bf16':
            raise ValueError(
                '--amp bf16: this CPU has no bfloat16 instructions (AMX or '
                'avx512_bf16), so it would train slower than fp32; drop '
                '--amp.')
        print_log(
            '--amp skipped: mixed precision needs a GPU or a CPU with '
            'bfloat16 instructions (AMX or avx512_bf16); training in fp32.',
            logger='current',
            level=logging.WARNING)
        _drop_amp_keys(cfg.optim_wrapper, 'OptimWrapper')
        return
    # no loss scaler: bfloat16 has float32's exponent range
    _drop_amp_keys(cfg.optim_wrapper, 'CPUAmpOptimWrapper')
    print_log(
        f'--amp: bfloat16 autocast on the CPU ({bf16_flag}), losses in '
        f'float32.',
        logger='current')


def _allow_tf32(cfg: Config) -> None:
    """TF32 matrix products and convolutions on GPUs that have them (about
    twice as fast as fp32, with a 10-bit mantissa); ``env_cfg.allow_tf32
    =False`` keeps full fp32."""
    allow = bool((cfg.get('env_cfg') or {}).get('allow_tf32', True))
    torch.backends.cuda.matmul.allow_tf32 = allow
    torch.backends.cudnn.allow_tf32 = allow


def _drop_amp_keys(wrapper: dict, new_type: str) -> None:
    """Make ``wrapper`` a ``new_type`` without AmpOptimWrapper's keys."""
    wrapper['type'] = new_type
    for key in ('loss_scale', 'dtype', 'use_fsdp'):
        wrapper.pop(key, None)


def _skip_config_amp_on_cpu(cfg: Config) -> None:
    """A config asking for AmpOptimWrapper trains in fp32 on a CPU (mmengine
    would refuse to build it there)."""
    if torch.cuda.is_available():
        return
    print_log(
        'AMP skipped: the config sets AmpOptimWrapper, which needs a GPU; '
        'training in fp32 with OptimWrapper.',
        logger='current',
        level=logging.WARNING)
    wrapper = cfg.optim_wrapper
    wrapper.type = 'OptimWrapper'
    for key in ('loss_scale', 'dtype', 'use_fsdp'):
        wrapper.pop(key, None)


def enable_visualization(cfg: Config,
                         show: bool = False,
                         show_dir: Optional[str] = None,
                         wait_time: float = 2,
                         interval: int = 1) -> None:
    """Switch on the config's visualization hook for ``tools/test.py``.

    mmseg's ``SegVisualizationHook`` draws the images of every
    ``interval``-th *batch* (50 by default); it is replaced by
    :class:`~had_mm.engine.hooks.PerImageVisualizationHook`, which draws
    every ``interval``-th *image*.

    Args:
        cfg (Config): The test config, changed in place.
        show (bool): Show the panels in a window.
        show_dir (str, optional): Where to write them, relative to the work
            dir.
        wait_time (float): Seconds each panel is shown.
        interval (int): Draw every ``interval``-th image. Defaults to 1.

    Raises:
        ValueError: If the config has no visualization hook or
            ``interval`` is not a positive integer.
    """
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise ValueError(
            '--show/--show-dir need default_hooks.visualization in the '
            'config; add `visualization=dict(type="SegVisualizationHook")`.')
    if isinstance(interval,
                  bool) or not isinstance(interval, int) or interval < 1:
        raise ValueError(f'--show-interval must be a positive integer (1 = '
                         f'every image), got {interval!r}')
    vis = hooks.visualization
    if vis.get('type') in ('SegVisualizationHook',
                           'mmseg.SegVisualizationHook'):
        vis['type'] = 'had_mm.PerImageVisualizationHook'
    vis['interval'] = interval
    vis['draw'] = True
    if show:
        vis['show'] = True
        vis['wait_time'] = wait_time
    if show_dir:
        # relative to the work dir, as mmseg documents --show-dir; the
        # visualizer's LocalVisBackend writes <show_dir>/vis_data/vis_image/
        cfg.visualizer['save_dir'] = osp.join(cfg.work_dir, show_dir)
