"""The base of every train loop that learns a sequence of phases."""
import copy
import logging
import math
import os.path as osp
import random
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from had_mm.evaluation.lifelong_report import (build_report, format_summary,
                                               write_report)
from had_mm.utils.dist_sync import broadcast_module_states
from ..hooks.lifelong_state_hook import LifelongStateHook

#: One row per finished phase, one column per task (None: not seen yet).
Matrix = List[List[Optional[float]]]


class PhasedTrainLoop(BaseLoop):
    """A sequence of phases, each trained in one or more stages, then
    evaluated into a task matrix, reported and checkpointed.

    What every lifelong / continual loop shares lives here:

    - the schedule: phase ``t`` has stages ``0..S_t-1`` of
      ``stage_lengths[t][s]`` iterations, run back to back;
      ``runner.iter`` counts iterations over all phases and stages,
      ``runner.epoch`` finished phases;
    - the data: one dataloader per stage, its sampler seeded per stage
      (the data order does not depend on what ran before);
    - per-iteration seeding (:meth:`_reseed`), so that a resumed run
      reproduces an uninterrupted one, dropout and augmentation included;
    - resuming inside a stage: the batches the interrupted run consumed
      are drawn again (each after its own reseed) and skipped; the loop's
      state (task list, schedule, task matrix) travels in every checkpoint
      through :class:`LifelongStateHook`;
    - one model on every rank: at the end of every stage each rank gets
      rank 0's parameters and buffers, teachers included
      (:meth:`_sync_ranks`), so every teacher copy, evaluation and
      checkpoint sees the same model;
    - one checkpoint per phase (saved before the error if the evaluation
      fails, so ``--resume`` evaluates the phase again instead of training
      it again), named in ``last_checkpoint`` as mmengine's CheckpointHook
      does;
    - the evaluation after each phase into :attr:`matrix` and the report
      of the phases so far (by default the lifelong report of
      :mod:`had_mm.evaluation.lifelong_report` in ``<work_dir>/lifelong``).

    The runner's hooks see each stage as an epoch (``before_train_epoch``
    / ``after_train_epoch``) and every iteration. A hook that sets
    ``stop_training`` (mmengine's ``EarlyStoppingHook``, after a phase's
    evaluation) ends the run before the next phase.

    A subclass calls ``super().__init__`` first, then sets :attr:`phase_names`
    and calls :meth:`_set_schedule` and :meth:`_register_state_hook`, and
    implements :meth:`_stage_dataloader`, :meth:`_metric_key` and
    :meth:`_validate`; the ``_start_*`` / ``_end_*`` methods are where it
    sets up what differs (teachers, optimizers, class masks).

    Args:
        runner (Runner): The runner.
        dataloader (dict): The train dataloader config; the loop builds one
            dataloader per stage from it.
        reseed_every_iter (bool): Seed torch/numpy/random from (seed, iter,
            rank) before each iteration. Defaults to True.
        progress_bar (bool): Show a progress bar per stage. Defaults to
            True.
    """

    #: What a phase is called in messages (``'phase'``, ``'task'``).
    PHASE_WORD = 'phase'
    #: Folder of ``work_dir`` the report goes to; also names the report
    #: in the log.
    REPORT_DIR = 'lifelong'
    #: First line of the report in the log.
    REPORT_HEADING = ('\nlifelong task matrix (rows: after phase; primary '
                      'metric per task)\n')
    #: The evaluator to use when a metric of the matrix is missing.
    EVALUATOR_HINT = 'MultiTaskMetric as val_evaluator'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, dict],
                 reseed_every_iter: bool = True,
                 progress_bar: bool = True) -> None:
        self._runner = runner
        if not isinstance(dataloader, dict):
            raise TypeError(f'{type(self).__name__} builds one dataloader '
                            f'per {self.PHASE_WORD}: train_dataloader must '
                            f'be a config dict')
        self.dataloader_cfg = copy.deepcopy(dataloader)
        self.reseed_every_iter = reseed_every_iter
        self.progress_bar = progress_bar
        self._epoch = 0  # finished phases
        self._iter = 0  # finished iterations over all phases and stages
        #: The name of each phase: a column of the matrix, a checkpoint
        #: name (set by subclasses; a task, a class group, ``task_<t>``).
        self.phase_names: List[str] = []
        self.matrix: Matrix = []
        self.final_metrics: List[Dict[str, float]] = []
        #: The lifelong state of the resume checkpoint (None otherwise).
        self.pending_state: Optional[dict] = None
        self.report = None
        #: Set by a hook (EarlyStoppingHook): no further phase is trained.
        self.stop_training = False

    @classmethod
    def check_cfg(cls, cfg: dict) -> List[str]:
        """Check a ``train_cfg`` of this loop before anything is built (run
        by the tools through :func:`~had_mm.utils.check_train_cfg`).

        Args:
            cfg (dict): The ``train_cfg`` (keys absent take the defaults).

        Returns:
            list[str]: One line per problem (none here; subclasses check
            their own arguments).
        """
        return []

    def _refuse_bad_cfg(self, **cfg) -> None:
        """Raise the problems :meth:`check_cfg` finds in the loop's own
        arguments: a loop built without the tools gets the same checks.

        Raises:
            ValueError: The problems, one clause each.
        """
        problems = self.check_cfg(cfg)
        if problems:
            raise ValueError('; '.join(problems))

    # ---------------------------------------------------------- schedule
    def _set_schedule(self, stage_lengths: Sequence[Sequence[int]]) -> None:
        """Set the iterations of every stage of every phase.

        Args:
            stage_lengths (Sequence[Sequence[int]]): ``[phase][stage]``
                iteration counts.
        """
        self.stage_lengths = [[int(n) for n in s] for s in stage_lengths]
        self.phase_iters = [sum(s) for s in self.stage_lengths]
        self.phase_starts = np.cumsum([0] + self.phase_iters).tolist()

    def _register_state_hook(self) -> None:
        """Carry the loop's state through checkpoints."""
        self._state_hook = LifelongStateHook(self)
        self.runner.register_hook(self._state_hook, priority='VERY_HIGH')

    def _epochs_to_iters(self, epochs: int, num_images: int) -> int:
        """Iterations of ``epochs`` passes over ``num_images`` images."""
        per_iter = self.dataloader_cfg.get('batch_size', 1) * \
            get_world_size()
        return int(epochs) * math.ceil(num_images / per_iter)

    @property
    def max_epochs(self) -> int:
        """int: Number of phases."""
        return len(self.phase_iters)

    @property
    def max_iters(self) -> int:
        """int: Iterations over all phases and stages."""
        return int(self.phase_starts[-1])

    @property
    def epoch(self) -> int:
        """int: Finished phases."""
        return self._epoch

    @property
    def iter(self) -> int:
        """int: Finished iterations."""
        return self._iter

    @property
    def model(self):
        """The model, unwrapped from DDP."""
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def phase_of(self, it: int) -> int:
        """The phase that iteration ``it`` (0-based) belongs to."""
        for t in range(len(self.phase_iters)):
            if it < self.phase_starts[t + 1]:
                return t
        return len(self.phase_iters)

    def stage_start(self, t: int, s: int) -> int:
        """The first iteration of stage ``s`` of phase ``t``."""
        return int(self.phase_starts[t] + sum(self.stage_lengths[t][:s]))

    def _check_val_loop(self) -> None:
        # private: the public val_loop property would build the loop now
        if self.runner._val_loop is None:
            raise ValueError(f'{type(self).__name__} evaluates after each '
                             f'{self.PHASE_WORD}: set val_dataloader, '
                             f'val_cfg and val_evaluator')

    # -------------------------------------------------------------- data
    def _build_phase_dataloader(self, dataset,
                                sampler_seed: int) -> DataLoader:
        """A dataloader over ``dataset`` from the train dataloader config.

        Args:
            dataset (Dataset): The stage's data.
            sampler_seed (int): The sampler's seed, unless the config sets
                one: a seed per stage makes the data order independent of
                history.

        Returns:
            DataLoader: The dataloader.
        """
        cfg = copy.deepcopy(self.dataloader_cfg)
        cfg['dataset'] = dataset
        sampler = dict(cfg.get('sampler') or {})
        sampler.setdefault('type', 'InfiniteSampler')
        if sampler.get('seed') is None:
            sampler['seed'] = sampler_seed
        cfg['sampler'] = sampler
        return self.runner.build_dataloader(
            cfg, seed=self.runner.seed, diff_rank_seed=False)

    def _stage_dataloader(self, t: int, s: int) -> DataLoader:
        """The dataloader of stage ``s`` of phase ``t``."""
        raise NotImplementedError

    def _reseed(self, it: int) -> None:
        """Seed random, NumPy and torch from (seed, ``it``, rank)."""
        if not self.reseed_every_iter:
            return
        seed = ((self.runner.seed or 0) * 1_000_003 + it * 101 +
                get_rank()) % (2**31)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    # ------------------------------------------------------------- run
    def run(self) -> torch.nn.Module:
        """Train (or, when resuming, finish) every phase.

        Returns:
            nn.Module: The runner's model.
        """
        start_phase = self.phase_of(self._iter)
        num_phases = len(self.phase_iters)
        if start_phase == num_phases and len(self.matrix) == num_phases:
            print_log(
                f'the run in {self.runner.work_dir} is complete: all '
                f'{num_phases} {self.PHASE_WORD}s were trained and evaluated '
                f'({self._iter} iterations); nothing to resume. Train a new '
                f'run in another work_dir.',
                logger='current',
                level=logging.WARNING)
        self._before_run()
        self.runner.call_hook('before_train')
        if len(self.matrix) < start_phase:
            # killed between a phase's last iteration and its evaluation:
            # finish that phase first, so no finished phase goes unrecorded
            t = start_phase - 1
            self._epoch = t
            self._reenter_phase(t)
            self._sync_ranks()
            self._end_phase(t)
            self._evaluate_and_save(t)
            self._epoch = start_phase
        for t in range(start_phase, num_phases):
            if self.stop_training:
                # set by a hook, e.g. mmengine's EarlyStoppingHook after a
                # phase's evaluation: whole phases are the unit of the run
                # (one matrix row each), so the stop comes between phases
                print_log(
                    f'stop_training was set after {self.PHASE_WORD} {t}: '
                    f'the last {num_phases - t} {self.PHASE_WORD}(s) are not '
                    'trained',
                    logger='current',
                    level=logging.WARNING)
                break
            self._run_phase(t, self._iter > self.phase_starts[t])
        self.runner.call_hook('after_train')
        return self.runner.model

    def _run_phase(self, t: int, resumed: bool) -> None:
        self._epoch = t
        self._start_phase(t, resumed)
        for s, length in enumerate(self.stage_lengths[t]):
            start = self.stage_start(t, s)
            if self._iter >= start + length:
                continue  # finished before the run was interrupted
            self._run_stage(t, s, self._iter > start)
        self._end_phase(t)
        self._evaluate_and_save(t)
        self._epoch = t + 1
        self._after_phase(t)

    def _run_stage(self, t: int, s: int, resumed: bool) -> None:
        start = self.stage_start(t, s)
        end = start + self.stage_lengths[t][s]
        self._start_stage(t, s, resumed)
        self.dataloader = self._stage_dataloader(t, s)
        print_log(self._stage_message(t, s, resumed), logger='current')
        self._drop_stale_log_scalars()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        iterator = iter(self.dataloader)
        # skip the batches the interrupted run had consumed, each drawn
        # after its own reseed as it was then
        for it in range(start, self._iter):
            self._reseed(it)
            next(iterator)
        bar = ProgressBar(end - self._iter) if (self.progress_bar
                                                and get_rank() == 0) else None
        while self._iter < end:
            self._reseed(self._iter)
            data_batch = next(iterator)
            self._run_iter(data_batch, self._iter - start)
            if bar is not None:
                bar.update()
        if bar is not None:
            print()
        self._sync_ranks()
        self.runner.call_hook('after_train_epoch')

    def _run_iter(self, data_batch, batch_idx: int) -> None:
        self.runner.call_hook(
            'before_train_iter', batch_idx=batch_idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=batch_idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def _drop_stale_log_scalars(self) -> None:
        # the losses of an earlier phase or stage would be logged as if
        # current
        scalars = self.runner.message_hub.log_scalars
        for key in list(scalars):
            if self._is_stale_log_scalar(key):
                scalars.pop(key)

    def _is_stale_log_scalar(self, key: str) -> bool:
        """Whether the log scalar ``key`` belongs to the previous stage:
        here the losses (``train/loss``, ``train/<task>.<loss>``)."""
        name = key.split('/', 1)[-1]
        return key.startswith('train/') and ('.' in name or name == 'loss')

    def _sync_ranks(self) -> None:
        """Give every rank rank 0's model (at the end of every stage).

        DDP keeps the parameters equal, not the buffers (mmengine wraps
        with ``broadcast_buffers=False``: each rank's BN statistics follow
        its shard) nor the teachers held outside the module tree. The
        parameters and buffers of the model and of its teachers are
        broadcast from rank 0 (:func:`~had_mm.utils.dist_sync.
        broadcast_module_states`); a subclass adds what else it holds. On
        one process nothing happens.
        """
        broadcast_module_states(self.runner.model)

    # ---------------------------------------------- what subclasses set up
    def _before_run(self) -> None:
        """Before ``before_train``, e.g. restore state from
        :attr:`pending_state`."""

    def _start_phase(self, t: int, resumed: bool) -> None:
        """Set up phase ``t`` (``resumed``: it had started before)."""

    def _start_stage(self, t: int, s: int, resumed: bool) -> None:
        """Set up stage ``s`` of phase ``t`` (``resumed``: mid-stage)."""

    def _stage_message(self, t: int, s: int, resumed: bool) -> str:
        """The log line at the start of a stage."""
        return (f'{self.PHASE_WORD} {t + 1}/{len(self.phase_iters)}: '
                f'{self.phase_names[t]}, stage {s + 1}, '
                f'{self.stage_lengths[t][s]} iterations' +
                (f' (resumed at iteration {self._iter})' if resumed else ''))

    def _reenter_phase(self, t: int) -> None:
        """Restore what phase ``t``'s evaluation needs and checkpoints do
        not carry, when a resumed run evaluates a phase it did not train."""

    def _end_phase(self, t: int) -> None:
        """After phase ``t``'s last iteration, before its evaluation."""

    def _after_phase(self, t: int) -> None:
        """After phase ``t`` was evaluated and saved."""

    # ------------------------------------------------------ checkpoints
    def _evaluate_and_save(self, t: int) -> None:
        """Evaluate phase ``t`` and save its checkpoint; if the evaluation
        fails, the trained phase is saved first (``--resume`` evaluates
        it again instead of training it again)."""
        try:
            self._evaluate(t)
        except BaseException:
            self._save_phase_checkpoint(t)
            raise
        self._save_phase_checkpoint(t)

    def _phase_checkpoint_name(self, t: int) -> Optional[str]:
        """File name of phase ``t``'s checkpoint; None saves none."""
        return f'phase_{t + 1}_{self.phase_names[t]}.pth'

    def _save_phase_checkpoint(self, t: int, **kwargs) -> None:
        """Save phase ``t``'s checkpoint and name it in
        ``last_checkpoint``.

        Args:
            t (int): The phase.
            **kwargs: Other arguments of ``runner.save_checkpoint``.
        """
        filename = self._phase_checkpoint_name(t)
        if filename is None:
            return
        # by_epoch=True stores epoch + 1 (= finished phases) and iter as is
        self.runner.save_checkpoint(
            self.runner.work_dir, filename=filename, by_epoch=True, **kwargs)
        if get_rank() == 0:
            # what --resume reads, as mmengine's CheckpointHook writes it
            with open(osp.join(self.runner.work_dir, 'last_checkpoint'),
                      'w') as f:
                f.write(osp.join(self.runner.work_dir, filename))

    def state_for_checkpoint(self, done: int) -> dict:
        """The loop's state for a checkpoint written after ``done``
        iterations (what :class:`LifelongStateHook` saves).

        Args:
            done (int): Finished iterations of the checkpoint.

        Returns:
            dict: Task list, schedule, matrix, metrics so far and what
            :meth:`_extra_state` adds.
        """
        # 'tasks': the key of the checkpoints written so far
        state = dict(
            tasks=list(self.phase_names),
            phase_iters=[int(n) for n in self.phase_iters],
            matrix=[list(r) for r in self.matrix],
            final_metrics=list(self.final_metrics))
        state.update(self._extra_state(done in self.phase_starts))
        return state

    def _extra_state(self, at_phase_end: bool) -> dict:
        """State a subclass adds to every checkpoint (e.g. a teacher's
        weights in the middle of a phase)."""
        return {}

    def load_checkpoint_state(self, state: dict, checkpoint: dict) -> None:
        """Restore the state of a resume checkpoint (checked by
        :class:`LifelongStateHook`).

        Args:
            state (dict): The checkpoint's loop state.
            checkpoint (dict): The whole checkpoint, before the runner
                reads its weights, optimizer and schedulers.
        """
        self.matrix = [list(r) for r in state['matrix']]
        self.final_metrics = list(state['final_metrics'])
        self.pending_state = state

    # -------------------------------------------------------- evaluation
    def _validate(self, t: int) -> Dict[str, float]:
        """Run the validation after phase ``t``.

        Returns:
            dict: The evaluator's metrics.
        """
        raise NotImplementedError

    @property
    def num_columns(self) -> int:
        """int: Columns of the matrix (default: one per phase)."""
        return len(self.phase_names)

    def _metric_key(self, j: int) -> str:
        """The metric of column ``j`` of the matrix."""
        raise NotImplementedError

    def _matrix_row(self, t: int, metrics: Dict[str, float]) -> list:
        """Row ``t`` of the matrix: column ``j``'s metric for ``j <= t``.

        Raises:
            KeyError: When the evaluator did not return a needed metric.
        """
        row: List[Optional[float]] = []
        for j in range(self.num_columns):
            if j > t:
                row.append(None)
                continue
            key = self._metric_key(j)
            if key not in metrics:
                raise KeyError(f'the evaluator returned no {key}; use '
                               f'{self.EVALUATOR_HINT}')
            row.append(float(metrics[key]))
        return row

    def _record(self, t: int, metrics: Dict[str, float]) -> None:
        """Append row ``t`` of :attr:`matrix` and the scalar metrics."""
        self.matrix.append(self._matrix_row(t, metrics))
        self.final_metrics.append({
            k: float(v)
            for k, v in metrics.items() if np.isscalar(v)
        })

    def _evaluate(self, t: int) -> None:
        self._record(t, self._validate(t))
        self.write_report()

    # ------------------------------------------------------------ report
    def write_report(self):
        """Write the report of the phases so far (rank 0).

        Returns:
            The report (a :class:`LifelongReport` unless a subclass writes
            another); None before any phase.
        """
        if not self.matrix:
            return None
        report = self._build_report()
        print_log(
            self.REPORT_HEADING + self._format_report(report),
            logger='current')
        if get_rank() == 0:
            paths = self._write_report_files(
                report, osp.join(self.runner.work_dir, self.REPORT_DIR))
            print_log(f'{self.REPORT_DIR} report: {paths}', logger='current')
        self.report = report
        return report

    def _build_report(self):
        # the schedule goes with the matrix: a reader (or a benchmark that
        # reuses finished runs) can tell which protocol produced it
        return build_report(
            self.phase_names,
            self.matrix,
            phase_iters=self.phase_iters,
            **self._report_kwargs())

    def _report_kwargs(self) -> dict:
        """Arguments of :func:`build_report` besides tasks and matrix."""
        return dict(final_metrics=self.final_metrics[-1])

    def _format_report(self, report) -> str:
        return format_summary(report)

    def _write_report_files(self, report, out_dir: str):
        return write_report(report, out_dir)
