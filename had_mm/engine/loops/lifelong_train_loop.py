import copy
import difflib
import logging
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from torch.utils.data import DataLoader

from had_mm.datasets.dataset_check import check_dataset, check_valid_pixels
from had_mm.registry import LOOPS, MODELS
from had_mm.tasks import check_tasks, get_task
from had_mm.utils.config_check import is_positive_int, unknown_kwargs
from had_mm.utils.cpu_features import channels_last_refusal
from had_mm.utils.dist_env import run_on_rank0
from had_mm.utils.dist_sync import broadcast_module_states
from ..distill.adapter_fitting import fit_teacher_adapter
from .phased_train_loop import PhasedTrainLoop
from .pseudo_label_cache import build_phase_cache, cacheable_pipeline

SPLIT_RULES = ('contiguous', 'all')
#: ``check_data='auto'`` reads every file before training up to this many
#: train + validation images (NYUv2 has 1449).
CHECK_DATA_MAX_IMAGES = 2000


def _check_loop_options(cfg: dict) -> List[str]:
    """The problems of the loop's scalar options (absent keys take the
    defaults)."""
    problems = []
    weight = cfg.get('distill_weight', 3.0)
    if isinstance(weight, bool) or not isinstance(
            weight, (int, float)) or not math.isfinite(weight) or weight < 0:
        problems.append(f'train_cfg.distill_weight must be a number >= 0 '
                        f'(0 = fine-tuning), got {weight!r}')
    split = cfg.get('split', 'contiguous')
    if split not in SPLIT_RULES:
        problems.append(f'train_cfg.split must be one of '
                        f'{", ".join(SPLIT_RULES)}, got {split!r}')
    num_chunks = cfg.get('num_chunks')
    if num_chunks is not None and not is_positive_int(num_chunks):
        problems.append(f'train_cfg.num_chunks must be a positive integer, '
                        f'got {num_chunks!r}')
    if cfg.get('check_data', 'auto') not in (True, False, 'auto'):
        problems.append(f'train_cfg.check_data must be True, False or '
                        f"'auto', got {cfg['check_data']!r}")
    return problems


def _check_component_cfg(sub, where: str) -> List[str]:
    """The problems of an optional component config (``distill``,
    ``teacher``): a dict with a type, whose other keys are arguments of
    the registered class."""
    if sub is None:
        return []
    if not isinstance(sub, dict) or 'type' not in sub:
        return [
            f'{where} must be None or a config dict with a type, got {sub!r}'
        ]
    try:
        target = MODELS.get(sub['type'])
    except (KeyError, ImportError):
        return []  # an unknown type is named by the config's type check
    return [] if target is None else unknown_kwargs(target, sub, where)


def _dry_run_distill_loss(model, task: str, loss: torch.nn.Module) -> None:
    """Call a distillation loss once on random outputs of ``task``'s head
    (2 images at 8 x 8, the head's channels), without gradients."""
    head = model.heads[task]
    channels = int(getattr(head, 'out_channels', 1))
    gen = torch.Generator().manual_seed(0)
    param = next(model.parameters(), None)
    device = param.device if param is not None else 'cpu'
    outs = []
    for _ in range(2):  # student and teacher
        raw = torch.randn(2, channels, 8, 8, generator=gen).to(device)
        outs.append(model.outputs_from_raw({task: raw}, [task], (8, 8))[task])
    with torch.no_grad():
        value = loss(outs[0], outs[1])
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise TypeError(f'the loss must return a scalar tensor, got '
                        f'{type(value).__name__}')


@LOOPS.register_module()
class LifelongTrainLoop(PhasedTrainLoop):
    """Lifelong heterogeneous learning: one task per phase, no old data.

    Phase ``t`` trains on chunk ``t`` of the train split with the labels of
    its task only. From phase 2 on, a frozen copy of the model at the end of
    the previous phase (the teacher) supplies pseudo-labels for every old
    head, and the distillation loss (``distill``; HAD by default) keeps them
    alive: ``L = L_new + distill_weight * sum_j L_distill,j``. After each
    phase every seen task is evaluated on the validation set; the task
    matrix and the lifelong report (JSON, CSV, PNG) are written to
    ``<work_dir>/lifelong/`` and a phase checkpoint is saved.

    The loop is an mmengine loop: runner hooks (logging, checkpointing,
    timers, visualisation) work as in ``IterBasedTrainLoop``. In checkpoints
    ``epoch`` counts finished phases and ``iter`` finished iterations, so
    ``--resume`` continues a phase at the right iteration with its teacher
    and the task matrix so far (restored by :class:`LifelongStateHook`).
    Schedule, seeding, resuming, phase checkpoints, the task matrix and the
    report are those of :class:`PhasedTrainLoop` (one stage per phase);
    this class adds the tasks, their data chunks and the distillation.

    Args:
        runner (Runner): The runner.
        dataloader (dict): The train dataloader config; its dataset must
            take ``tasks`` and ``indices`` (e.g. NYUv2MultiTaskDataset).
        phases (list[dict]): One dict per phase: ``task`` and either
            ``max_iters`` or ``max_epochs`` (over the phase's chunk).
        distill (dict, optional): Distillation loss config, built once per
            old task with ``task=<task type>``. None = fine-tuning.
        distill_weight (float): lambda. 0 also means fine-tuning.
        split (str): ``'contiguous'``: ``num_chunks`` equal disjoint
            contiguous chunks, phase ``t`` takes chunk ``t`` (or the
            phase's ``chunk``), the reference rule; ``'all'``: every phase
            sees the whole train split (its own task's labels only).
        num_chunks (int, optional): Chunks of the contiguous split; default
            the number of phases. A single-task reference run for task
            ``t`` of a T-phase sequence is ``phases=[dict(task=..., chunk=t,
            ...)]`` with ``num_chunks=T``: same data, same schedule.
        reset_optimizer (bool): New optimizer state at each phase start.
        reset_lr_schedule (bool): Restart the LR schedule at each phase;
            iteration-based schedulers get ``begin=0, end=<phase iters>``.
        reference_metrics (dict | str, optional): Single-task reference
            primary metrics ``{task: value}`` (or a JSON file with them, e.g.
            a report's ``final`` row) for Delta_m.
        reseed_every_iter (bool): Seed torch/numpy/random from (seed, iter,
            rank) before each iteration, so a resumed run reproduces an
            uninterrupted one, dropout and augmentation included.
        progress_bar (bool): Show a progress bar per phase.
        teacher (dict, optional): A teacher of another architecture family
            (e.g. ``dict(type='HeteroLifelongTeacher', teacher_cfg=...,
            teacher_ckpt=...)``) that supplies the old tasks' pseudo-labels
            through its teacher adapters instead of the previous phase's
            model; the adapter of each task is fitted at the end of its
            phase. None = the model itself is the teacher (HAD).
        pseudo_label_cache (bool): Run the teacher once per phase over the
            phase's images and reuse its raw head outputs (decode
            resolution, ``N x sum_j C_j x H/8 x W/8`` float32, see
            :mod:`~had_mm.engine.loops.pseudo_label_cache`) instead of a
            teacher forward per iteration, with the model's own teacher or
            ``teacher``. Needs a train pipeline that is deterministic or
            only flips and scale-crops (followed on the cached maps; a CNN
            is neither flip- nor scale-equivariant, so the losses differ
            from the online teacher's: slightly with flips, more with
            zooms, measured and logged when the cache is built); any other
            random transform is refused by name. Defaults to False.
        channels_last (bool): Train (model, teacher and inputs) in the
            channels_last memory format on a GPU; skipped, with one
            warning, on a CPU (oneDNN's NHWC convolution backward corrupts
            the heap there with torch 2.14). Defaults to False.
        check_data (bool | str): Before training, read every file of every
            phase's chunk and of the validation set once (sizes, dtypes,
            class range, finiteness; see
            :func:`~had_mm.datasets.dataset_check.check_dataset`) and
            require valid validation pixels for every task and valid
            pixels of its task in every phase's chunk (a phase without
            any would train on a zero loss), so that a bad file fails in
            second 1 rather than when a batch reads it.
            ``'auto'`` (default): when train and validation sets hold at
            most :data:`CHECK_DATA_MAX_IMAGES` images together.
    """

    #: The keys a phase dict may have (subclasses whose phases are not
    #: tasks name their own).
    PHASE_KEYS: Tuple[str, ...] = ('task', 'max_iters', 'max_epochs', 'chunk')

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, dict],
                 phases: Sequence[dict],
                 distill: Optional[dict] = dict(type='had_mm.HADLoss'),
                 distill_weight: float = 3.0,
                 split: str = 'contiguous',
                 num_chunks: Optional[int] = None,
                 reset_optimizer: bool = True,
                 reset_lr_schedule: bool = True,
                 reference_metrics: Optional[Union[dict, str]] = None,
                 reseed_every_iter: bool = True,
                 progress_bar: bool = True,
                 teacher: Optional[dict] = None,
                 pseudo_label_cache: bool = False,
                 channels_last: bool = False,
                 check_data: Union[bool, str] = 'auto') -> None:
        # a bad argument is refused before anything is built
        self._refuse_bad_cfg(
            phases=phases,
            distill=distill,
            distill_weight=distill_weight,
            split=split,
            num_chunks=num_chunks,
            teacher=teacher,
            check_data=check_data)
        super().__init__(
            runner,
            dataloader,
            reseed_every_iter=reseed_every_iter,
            progress_bar=progress_bar)
        self.phases = [dict(p) for p in phases]
        self.phase_names = self._phase_names()
        self.distill_cfg = distill
        self.distill_weight = distill_weight
        self.split = split
        self.num_chunks = num_chunks or len(self.phases)
        self.reset_optimizer = reset_optimizer
        self.reset_lr_schedule = reset_lr_schedule
        self.reference_metrics = reference_metrics
        self.pseudo_label_cache = pseudo_label_cache
        self.channels_last = channels_last
        self.check_data = check_data
        self.teacher = None
        self._check_model_and_data()
        self._check_val_loop()
        self.phase_datasets = [
            self._phase_dataset(t) for t in range(len(self.phases))
        ]
        # one stage per phase
        self._set_schedule([[self._num_iters(t)]
                            for t in range(len(self.phases))])
        # the runner reads train_dataloader (e.g. its dataset meta on
        # resume) before run(); run() builds each phase's own
        self.dataloader = self._phase_dataloader(0)
        self.hetero_teacher = self._build_hetero_teacher(teacher)
        self._check_distill()
        self._register_state_hook()
        self._check_pseudo_label_cache()
        run_on_rank0(self._check_data_files)

    @property
    def tasks(self) -> List[str]:
        """list[str]: The task each phase learns (the phase names)."""
        return self.phase_names

    # ------------------------------------------------------------ set-up
    def _phase_names(self) -> List[str]:
        """Check the phases and name each (here: by its task).

        Subclasses whose phases are not tasks (e.g. class groups) override
        this and :meth:`_check_model_and_data`.
        """
        tasks = check_tasks([p.get('task') for p in self.phases])
        if len(set(tasks)) != len(tasks):
            raise ValueError(f'each task may appear once in the phases, got '
                             f'{tasks}')
        return tasks

    def _check_model_and_data(self) -> None:
        model = self.model
        heads = getattr(model, 'heads', None)
        if heads is None:
            raise TypeError(f'LifelongTrainLoop needs a model with per-task '
                            f'heads (HeterogeneousDensePredictor), got '
                            f'{type(model).__name__}')
        missing = [t for t in self.tasks if t not in heads]
        if missing:
            raise ValueError(f'phase task(s) {missing} have no head: the '
                             f'model has heads for {list(heads)}; add them '
                             f'to model.heads')

    @classmethod
    def check_cfg(cls, cfg: dict) -> List[str]:
        """Check a ``train_cfg`` of this loop before anything is built.

        Run by the tools on the config (see
        :func:`~had_mm.utils.check_train_cfg`) and by ``__init__``: every
        phase's keys (a typo lists the valid ones, :attr:`PHASE_KEYS`) and
        schedule (exactly one of ``max_iters`` / ``max_epochs``, a positive
        integer), ``distill_weight`` (a number >= 0), ``split``,
        ``num_chunks`` and the arguments of the ``distill`` loss and of the
        ``teacher``. What needs the built model and data (heads, chunks,
        a dry run of every later phase's distillation loss) is checked in
        ``__init__``.

        Args:
            cfg (dict): The ``train_cfg`` (keys absent take the defaults).

        Returns:
            list[str]: One line per problem.
        """
        phases = cfg.get('phases')
        if not isinstance(phases, (list, tuple)) or not phases:
            return [
                'train_cfg.phases must be a non-empty list with one dict '
                "per phase, e.g. dict(task='semantic', max_iters=100); got "
                f'{phases!r}'
            ]
        problems = []
        for t, phase in enumerate(phases):
            problems += cls._check_phase_cfg(phase, f'train_cfg.phases[{t}]')
        problems += _check_loop_options(cfg)
        for key in ('distill', 'teacher'):
            problems += _check_component_cfg(cfg.get(key), f'train_cfg.{key}')
        return problems

    @classmethod
    def _check_phase_cfg(cls, phase, where: str) -> List[str]:
        """The problems of one phase dict: its keys (:attr:`PHASE_KEYS`),
        its schedule and its chunk."""
        if not isinstance(phase, dict):
            return [f'{where} must be a dict, got {phase!r}']
        problems = []
        for key in phase:
            if key not in cls.PHASE_KEYS:
                close = difflib.get_close_matches(key, cls.PHASE_KEYS, 1)
                hint = f' Did you mean "{close[0]}"?' if close else ''
                problems.append(f'{where}: unknown key "{key}"; valid keys '
                                f'are {", ".join(cls.PHASE_KEYS)}.{hint}')
        length = [k for k in ('max_iters', 'max_epochs') if k in phase]
        if len(length) != 1:
            problems.append(f'{where} needs exactly one of max_iters or '
                            f'max_epochs, got {dict(phase)}')
        for key in length:
            if not is_positive_int(phase[key]):
                problems.append(f'{where}.{key} must be a positive integer, '
                                f'got {phase[key]!r}')
        chunk = phase.get('chunk', 0)
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 0:
            problems.append(f'{where}.chunk must be an integer >= 0, got '
                            f'{chunk!r}')
        return problems

    def _check_data_files(self) -> None:
        """Read every training and validation file once (``check_data``)
        and require valid validation pixels for every task."""
        val_dataset = self.runner.val_loop.dataloader.dataset
        total = sum(len(d) for d in self.phase_datasets) + len(val_dataset)
        if self.check_data is False or (self.check_data == 'auto'
                                        and total > CHECK_DATA_MAX_IMAGES):
            if self.check_data == 'auto':
                print_log(
                    f'data files not checked before training: {total} '
                    f'images > {CHECK_DATA_MAX_IMAGES} (set '
                    f'train_cfg.check_data=True to check them, or run '
                    f'tools/analysis/check_dataset.py)',
                    logger='current')
            return
        for t, dataset in enumerate(self.phase_datasets):
            name = f'the train chunk of phase {t + 1} ({self.tasks[t]})'
            summary = check_dataset(dataset, name)
            # a phase without one valid pixel of its task would train on a
            # zero loss throughout, and the task matrix call it learnt
            check_valid_pixels(summary, [self.tasks[t]], name, training=True)
        summary = check_dataset(val_dataset, 'the validation set')
        check_valid_pixels(summary, self.tasks, 'the validation set')
        print_log(
            f'data files checked: {total} images (train chunks and '
            f'validation set)',
            logger='current')

    def _check_distill(self) -> None:
        """Build every later phase's distillation losses and run each once
        on small random outputs, so that a bad argument (``tau='x'``)
        fails at start-up instead of after the phases before it."""
        if not self.distill_cfg or self.distill_weight == 0:
            return
        model = self.model
        for t in range(1, len(self.phases)):
            losses = self._build_distill_losses(t)
            for task, loss in losses.items():
                try:
                    _dry_run_distill_loss(model, task, loss)
                except Exception as err:  # any error of the loss's own
                    raise ValueError(
                        f'train_cfg.distill ({self.distill_cfg}) fails for '
                        f'old task {task} of phase {t + 1}: '
                        f'{type(err).__name__}: {err}') from None

    def _build_distill_losses(self, t: int) -> Dict[str, torch.nn.Module]:
        """The distillation loss of every old task of phase ``t``."""
        losses = {}
        for task in self.tasks[:t]:
            try:
                losses[task] = MODELS.build(dict(self.distill_cfg, task=task))
            except Exception as err:  # any error of the loss's own
                raise ValueError(
                    f'train_cfg.distill ({self.distill_cfg}) cannot be '
                    f'built for old task {task} of phase {t + 1}: '
                    f'{type(err).__name__}: {err}') from None
        return losses

    def _phase_dataset(self, t: int):
        dataset = self._build_dataset(t, self._phase_dataset_cfg(t))
        n = len(dataset)
        if self.split == 'contiguous':
            # T equal, disjoint, contiguous chunks (the HAD reference rule)
            T, c = self.num_chunks, self.phases[t].get('chunk', t)
            if not 0 <= c < T:
                raise ValueError(f'phase {t + 1} asks for chunk {c} of {T}')
            lo, hi = c * n // T, (c + 1) * n // T
            # in place: mmengine 0.10.7's get_subset deep-copies through a
            # memo shared by all calls, which can hand back an old dataset
            # for a transform that now lives at its freed address
            dataset.get_subset_(list(range(lo, hi)))
        if len(dataset) == 0:
            raise ValueError(
                f'phase {t + 1} ({self.phase_names[t]}) has no training '
                f'images: {n} images split into {self.num_chunks} chunks; use '
                f'more data or fewer phases')
        return dataset

    def _phase_dataset_cfg(self, t: int) -> dict:
        """The data set config of phase ``t``: the train data set with the
        labels of the phase's task only."""
        return dict(
            copy.deepcopy(self.dataloader_cfg['dataset']),
            tasks=[self.tasks[t]])

    def _build_dataset(self, t: int, cfg: dict):
        """Build phase ``t``'s data set from ``cfg``; a label the data set
        does not provide is named with the phase that needs it."""
        from had_mm.registry import DATASETS
        try:
            return DATASETS.build(cfg)
        except FileNotFoundError as err:
            root = cfg.get('data_root')
            if isinstance(root, str) and not osp.isdir(root):
                raise  # no data at all: the data set's message says why
            raise FileNotFoundError(
                f'{err} (needed by phase {t + 1} ({self.phase_names[t]}): '
                f'the dataset does not provide it)') from None

    def _num_iters(self, t: int) -> int:
        phase = self.phases[t]
        if 'max_iters' in phase:
            return int(phase['max_iters'])
        return self._epochs_to_iters(phase['max_epochs'],
                                     len(self.phase_datasets[t]))

    def _phase_dataloader(self, t: int) -> DataLoader:
        return self._build_phase_dataloader(self.phase_datasets[t],
                                            (self.runner.seed or 0) + t)

    def _stage_dataloader(self, t: int, s: int) -> DataLoader:
        return self._phase_dataloader(t)

    def _build_hetero_teacher(self, cfg: Optional[dict]):
        if cfg is None:
            return None
        if not self.distill_cfg or self.distill_weight == 0:
            raise ValueError(
                'train_cfg.teacher is set but nothing is distilled '
                '(train_cfg.distill is None or distill_weight is 0); drop '
                'the teacher or set a distillation loss')
        teacher = MODELS.build(cfg)
        param = next(self.model.parameters(), None)
        if param is not None:
            teacher.to(param.device)
        return teacher

    # ------------------------------------------------------------- run
    def _before_run(self) -> None:
        state = (self.pending_state or {}).get('hetero_teacher')
        if self.hetero_teacher is not None and state is not None:
            self.hetero_teacher.load_lifelong_state(state, self.model)

    def _start_phase(self, t: int, resumed: bool) -> None:
        self._setup_teacher(t, resumed)
        self._prepare_phase(t)

    def _start_stage(self, t: int, s: int, resumed: bool) -> None:
        if resumed:
            return  # the optimizer and schedulers come from the checkpoint
        if self.reset_optimizer:
            for optimizer in self._optimizers():
                optimizer.state.clear()
        if self.reset_lr_schedule:
            self._restart_lr_schedule(t)

    def _stage_message(self, t: int, s: int, resumed: bool) -> str:
        return (f'phase {t + 1}/{len(self.phases)}: {self.tasks[t]}, '
                f'{len(self.phase_datasets[t])} images, '
                f'{self.phase_iters[t]} iterations' +
                (f', distilling {self.tasks[:t]}'
                 if self.teacher is not None else '') +
                (f' (resumed at iteration {self._iter})' if resumed else ''))

    def _end_phase(self, t: int) -> None:
        self._fit_hetero_teacher(t)

    def _sync_ranks(self) -> None:
        super()._sync_ranks()
        if self.hetero_teacher is not None:
            # its adapters and frozen model, attached or not
            broadcast_module_states(self.hetero_teacher)

    def _after_phase(self, t: int) -> None:
        self.model.detach_teacher()

    def _extra_state(self, at_phase_end: bool) -> dict:
        if self.hetero_teacher is not None:
            # its adapters outlive phases: saved in every checkpoint
            return dict(hetero_teacher=self.hetero_teacher.lifelong_state())
        # a phase-end checkpoint needs no teacher: the next phase's teacher
        # is the model itself
        if self.teacher is not None and not at_phase_end:
            return dict(teacher_state_dict=self.teacher.state_dict())
        return {}

    # ------------------------------------------------------ performance
    def _check_pseudo_label_cache(self) -> None:
        """Refuse a pipeline or teacher the cache cannot serve, before
        anything trains."""
        if not self.pseudo_label_cache:
            return
        if not callable(getattr(self.model, 'set_pseudo_label_cache', None)):
            raise TypeError(f'train_cfg.pseudo_label_cache needs a model '
                            f'with set_pseudo_label_cache() '
                            f'(HeterogeneousDensePredictor), got '
                            f'{type(self.model).__name__}')
        for dataset in self.phase_datasets:
            cacheable_pipeline(dataset.pipeline.transforms)

    def _prepare_phase(self, t: int) -> None:
        """Memory format and pseudo-label cache of phase ``t`` (after the
        teacher is set up)."""
        model = self.model
        teacher = getattr(model, 'teacher', None)
        refusal = channels_last_refusal(next(model.parameters()).device) \
            if self.channels_last else None
        if refusal is not None:
            if not getattr(self, '_channels_last_warned', False):
                print_log(refusal, logger='current', level=logging.WARNING)
                self._channels_last_warned = True
        elif self.channels_last:
            model.to(memory_format=torch.channels_last)
            model.channels_last = True
            if teacher is not None:
                teacher.to(memory_format=torch.channels_last)
                if hasattr(teacher, 'channels_last'):
                    teacher.channels_last = True
        if self.pseudo_label_cache and teacher is not None:
            cfg = self.dataloader_cfg
            cache = build_phase_cache(
                teacher,
                self.tasks[:t],
                self.phase_datasets[t],
                model.data_preprocessor,
                batch_size=cfg.get('batch_size', 1),
                num_workers=cfg.get('num_workers', 0),
                student=model)
            model.set_pseudo_label_cache(cache)

    def _optimizers(self):
        wrapper = self.runner.optim_wrapper
        wrappers = wrapper.values() if hasattr(wrapper,
                                               'values') else [wrapper]
        return [w.optimizer for w in wrappers]

    def _restart_lr_schedule(self, t: int) -> None:
        cfgs = self.runner.cfg.get('param_scheduler')
        if not cfgs:
            return
        for optimizer in self._optimizers():
            for group in optimizer.param_groups:
                if 'initial_lr' in group:
                    group['lr'] = group['initial_lr']
        cfgs = copy.deepcopy(cfgs if isinstance(cfgs, list) else [cfgs])
        for cfg in cfgs:
            if cfg.get('by_epoch', True) is False:  # iteration-based
                cfg['begin'] = 0
                cfg['end'] = self.phase_iters[t]
        self.runner.param_schedulers = self.runner.build_param_scheduler(cfgs)

    def _setup_teacher(self, t: int, resumed: bool) -> None:
        model = self.model
        model.detach_teacher()
        self.teacher = None
        if t == 0 or not self.distill_cfg or self.distill_weight == 0:
            return
        teacher = self._make_teacher(t, resumed)
        self._attach_teacher(t, teacher)

    def _attach_teacher(self, t: int, teacher) -> None:
        """Distil phase ``t``'s old tasks from ``teacher``."""
        losses = self._build_distill_losses(t)
        self.model.attach_teacher(
            teacher, losses=losses, weight=self.distill_weight)

    def _make_teacher(self, t: int, resumed: bool):
        """The model at the end of phase ``t - 1``: a copy of the model,
        or, when resuming mid-phase, the teacher saved in the checkpoint;
        or the heterogeneous teacher, whose adapters carry the old tasks."""
        if self.hetero_teacher is not None:
            missing = [
                task for task in self.tasks[:t]
                if task not in self.hetero_teacher.fitted_tasks
            ]
            if missing:
                raise RuntimeError(
                    f'phase {t + 1}: the heterogeneous teacher has no '
                    f'adapter for {missing}; resume from a checkpoint '
                    f'written by a run with the same train_cfg.teacher')
            self.teacher = self.hetero_teacher
            return self.teacher
        teacher = copy.deepcopy(self.model)
        if resumed:
            state = (self.pending_state or {}).get('teacher_state_dict')
            if state is None:
                raise RuntimeError(
                    f'cannot resume phase {t + 1} mid-way: the checkpoint '
                    f'holds no teacher (was it written by a lifelong loop '
                    f'with distillation?)')
            teacher.load_state_dict(state)
        self.teacher = teacher
        return teacher

    def _fit_hetero_teacher(self, t: int) -> None:
        """Fit the heterogeneous teacher's adapter of phase ``t``'s task on
        the phase's data (before it is gone)."""
        teacher = self.hetero_teacher
        if teacher is None or self.tasks[t] in teacher.fitted_tasks:
            return
        self._reseed(self._iter)
        model = self.model
        fit_teacher_adapter(
            teacher,
            self.tasks[t],
            model,
            iter(self._phase_dataloader(t)),
            self.phase_iters[t],
            preprocess=lambda batch: model.data_preprocessor(batch, True),
            logger=self.runner.logger)

    # -------------------------------------------------------- evaluation
    def _validate(self, t: int) -> Dict[str, float]:
        seen = self.tasks[:t + 1]
        model = self.model
        model.predict_tasks = list(seen)
        for metric in self.runner.val_loop.evaluator.metrics:
            if hasattr(metric, 'set_tasks'):
                metric.set_tasks(seen)
        metrics = self.runner.val_loop.run()
        model.predict_tasks = None
        return metrics

    def _metric_key(self, j: int) -> str:
        return get_task(self.tasks[j]).primary_key()

    def _report_kwargs(self) -> dict:
        return dict(
            reference=self._reference(), final_metrics=self.final_metrics[-1])

    def _reference(self) -> Optional[dict]:
        ref = self.reference_metrics
        if ref is None or isinstance(ref, dict):
            return ref
        import json
        with open(ref) as f:
            data = json.load(f)
        return data.get('reference', data)
