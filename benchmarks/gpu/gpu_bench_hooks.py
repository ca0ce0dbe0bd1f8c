"""Hooks of the GPU run (benchmarks/gpu/run_on_device.sh).

The generated configs of :mod:`gpu_bench` import this module with
``custom_imports`` (``benchmarks/gpu`` on ``PYTHONPATH``) and add both hooks
to the run of ``tools/train.py``, so the figures come from the training the
user runs, not from a replica of it:

- :class:`StepProfileHook`: per phase, the time of every training step
  (CUDA-synchronised on a GPU), the wait for the next batch, the peak
  memory of each step (``torch.cuda.reset_peak_memory_stats()`` before the
  step, ``max_memory_allocated()`` after it), and the wall time of the
  phase's set-up (from the end of the previous phase's evaluation, or from
  ``before_train``: its checkpoint, the teacher's copy, the data loader), of
  its training and of its evaluation. Written by rank 0 to
  ``<work_dir>/gpu_profile.json``.
- :class:`RankEqualityHook`: at the start of each phase (after the teacher
  is made) and at its end (before the evaluation), every parameter and
  buffer of the model, of the teacher and of a heterogeneous teacher is
  gathered from every rank and compared with ``torch.equal``. Written by
  rank 0 to ``<work_dir>/rank_equality.json`` after each check.
"""
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional

import torch
import torch.distributed as dist
from mmengine.dist import get_rank, get_world_size, is_distributed
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from had_mm.registry import HOOKS


def _write_json(path: str, data: dict) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def _loop(runner):
    return runner.train_loop


def _phase(runner) -> int:
    return int(_loop(runner).epoch)


def _task(runner, t: int) -> str:
    tasks = getattr(_loop(runner), 'tasks', None)
    return str(tasks[t]) if tasks and t < len(tasks) else str(t)


@HOOKS.register_module()
class StepProfileHook(Hook):
    """Time every training step and take its peak memory, per phase.

    Args:
        out_file (str, optional): The JSON file; default
            ``<work_dir>/gpu_profile.json``.
    """

    # first in before_train_iter and after_train_iter: the step is the
    # model's train_step (and the cheap hooks before it), and its peak is
    # read before the LoggerHook's own reset_peak_memory_stats()
    priority = 'HIGHEST'

    def __init__(self, out_file: Optional[str] = None) -> None:
        self.out_file = out_file
        self.phases: List[dict] = []
        self._t_iter = None
        self._t_end = None
        self._t_train = None
        self._t_val = None
        self._t_ready = None
        self.cuda = False

    def _now(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def _current(self, runner) -> dict:
        t = _phase(runner)
        while len(self.phases) <= t:
            n = len(self.phases)
            self.phases.append(
                dict(
                    phase=n + 1,
                    task=_task(runner, n),
                    step_s=[],
                    wait_s=[],
                    peak_alloc_mib=[],
                    reserved_mib=[],
                    setup_s=None,
                    train_s=None,
                    eval_s=None))
        return self.phases[t]

    def before_train(self, runner) -> None:
        param = next(runner.model.parameters(), None)
        self.cuda = param is not None and param.is_cuda
        self._t_train = time.perf_counter()
        self._t_ready = self._t_train
        wrapper = runner.optim_wrapper
        dtype = getattr(wrapper, 'cast_dtype', None)
        self.meta = dict(
            device=(torch.cuda.get_device_name() if self.cuda else 'cpu'),
            world_size=get_world_size(),
            optim_wrapper=type(wrapper).__name__,
            amp_dtype=None if dtype is None else str(dtype).replace(
                'torch.', ''),
            cudnn_benchmark=bool(torch.backends.cudnn.benchmark),
            tf32_matmul=bool(torch.backends.cuda.matmul.allow_tf32),
            tf32_cudnn=bool(torch.backends.cudnn.allow_tf32),
            channels_last=bool(getattr(_loop(runner), 'channels_last', False)),
            batch_size=runner.cfg.train_dataloader.get('batch_size'),
            torch=torch.__version__,
            cuda=torch.version.cuda)

    def before_train_epoch(self, runner) -> None:
        phase = self._current(runner)
        phase['_t0'] = self._now()
        phase['setup_s'] = phase['_t0'] - self._t_ready
        self._t_end = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        phase = self._current(runner)
        now = self._now()
        if self._t_end is not None:
            phase['wait_s'].append(now - self._t_end)
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        self._t_iter = now

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        phase = self._current(runner)
        now = self._now()
        phase['step_s'].append(now - self._t_iter)
        if self.cuda:
            phase['peak_alloc_mib'].append(torch.cuda.max_memory_allocated() /
                                           2**20)
            phase['reserved_mib'].append(torch.cuda.memory_reserved() / 2**20)
        self._t_end = self._now()

    def after_train_epoch(self, runner) -> None:
        phase = self._current(runner)
        phase['train_s'] = self._now() - phase.pop('_t0')

    def before_val(self, runner) -> None:
        self._t_val = self._now()

    def after_val(self, runner) -> None:
        if self._t_val is None or not self.phases:
            return
        # the lifelong loop evaluates after each phase's training
        self._t_ready = self._now()
        self.phases[-1]['eval_s'] = self._t_ready - self._t_val
        self._t_val = None

    def after_train(self, runner) -> None:
        if get_rank() != 0:
            return
        out = self.out_file or osp.join(runner.work_dir, 'gpu_profile.json')
        _write_json(
            out,
            dict(
                self.meta,
                total_train_s=time.perf_counter() - self._t_train,
                phases=self.phases))


def _named_tensors(module) -> Dict[str, torch.Tensor]:
    if module is None:
        return {}
    if is_model_wrapper(module):
        module = module.module
    tensors = {}
    if hasattr(module, 'named_parameters'):
        for name, p in module.named_parameters():
            tensors[name] = p.detach()
        for name, b in module.named_buffers():
            tensors[name] = b.detach()
    return tensors


def unequal_across_ranks(tensors: Dict[str, torch.Tensor]) -> List[str]:
    """The names of the tensors that are not equal (``torch.equal``) on
    every rank; every rank must pass the same names in the same order.

    The tensors are flattened per dtype and device, gathered from every
    rank in one collective each (on the CPU under gloo), and compared
    tensor by tensor.
    """
    if not is_distributed() or get_world_size() < 2:
        return []
    on_cpu = dist.get_backend() == 'gloo'
    groups: Dict[tuple, List[str]] = {}
    for name, t in tensors.items():
        key = (str(t.dtype), 'cpu' if on_cpu else str(t.device))
        groups.setdefault(key, []).append(name)
    differ = []
    for key in sorted(groups):
        names = groups[key]
        parts = [tensors[n].reshape(-1) for n in names]
        flat = torch.cat(parts)
        if on_cpu:
            flat = flat.cpu()
        gathered = [torch.empty_like(flat) for _ in range(get_world_size())]
        dist.all_gather(gathered, flat)
        sizes = [p.numel() for p in parts]
        chunks = [torch.split(g, sizes) for g in gathered]
        for i, name in enumerate(names):
            if not all(
                    torch.equal(chunks[0][i], other[i])
                    for other in chunks[1:]):
                differ.append(name)
    return differ


@HOOKS.register_module()
class RankEqualityHook(Hook):
    """Compare the model, the teacher and a heterogeneous teacher across
    ranks at the start and at the end of every phase.

    Args:
        out_file (str, optional): The JSON file; default
            ``<work_dir>/rank_equality.json``.
        max_names (int): Names of unequal tensors listed per group.
    """

    priority = 'LOWEST'

    def __init__(self,
                 out_file: Optional[str] = None,
                 max_names: int = 20) -> None:
        self.out_file = out_file
        self.max_names = max_names
        self.checks: List[dict] = []

    def _check(self, runner, when: str) -> None:
        tic = time.perf_counter()
        loop = _loop(runner)
        groups = dict(
            model=_named_tensors(runner.model),
            teacher=_named_tensors(getattr(loop, 'teacher', None)),
            hetero_teacher=_named_tensors(
                getattr(loop, 'hetero_teacher', None)))
        t = _phase(runner)
        record = dict(phase=t + 1, task=_task(runner, t), when=when, groups={})
        for group, tensors in groups.items():
            if not tensors and group != 'model':
                continue
            differ = unequal_across_ranks(tensors)
            record['groups'][group] = dict(
                tensors=len(tensors),
                unequal=len(differ),
                names=differ[:self.max_names])
        # (the start check falls in StepProfileHook's train_s of the phase)
        record['seconds'] = round(time.perf_counter() - tic, 3)
        self.checks.append(record)
        if get_rank() == 0:
            out = self.out_file or osp.join(runner.work_dir,
                                            'rank_equality.json')
            _write_json(
                out,
                dict(
                    world_size=get_world_size(),
                    backend=(dist.get_backend() if is_distributed() else None),
                    equal=all(g['unequal'] == 0 for c in self.checks
                              for g in c['groups'].values()),
                    checks=self.checks))

    def before_train_epoch(self, runner) -> None:
        self._check(runner, 'start')

    def after_train_epoch(self, runner) -> None:
        self._check(runner, 'end')
