"""Continual distillation: teacher then student on each task in turn."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.logging import print_log
from torch.utils.data import DataLoader

from had_mm.checkpoint import CheckpointLoadError
from had_mm.engine.loops.phased_train_loop import Matrix, PhasedTrainLoop
from had_mm.registry import DATASETS, LOOPS, OPTIM_WRAPPERS, OPTIMIZERS
from had_mm.utils.config_check import is_positive_int
from ..evaluation.continual_metrics import (build_continual_report,
                                            format_continual_report,
                                            write_continual_report)

STAGES = ('teacher', 'student')


@LOOPS.register_module()
class ContinualDistillLoop(PhasedTrainLoop):
    """Class-incremental continual distillation (KDP), task by task.

    For each task ``t`` (classes ``[t * k, (t + 1) * k)`` after the class
    order of the data set):

    1. ``model.begin_task(t, (t + 1) * k, (t * k, (t + 1) * k))``;
    2. if the model has a teacher: ``model.set_stage('teacher')``, a new
       optimizer (from the ``optim_wrapper`` config) over
       ``model.stage_parameters()``, the ``param_scheduler`` config
       restarted and stretched over the stage, and training on task
       ``t``'s data only;
    3. ``model.set_stage('student')``, likewise (so the optimizer is reset
       per task and per stage);
    4. evaluation of the student (and of the teacher, with
       ``model.predict_with = 'teacher'``) on the test data of every task
       seen so far, with the ``val_evaluator`` (:class:`TaskAccuracy`);
    5. the accuracy matrices, the final average accuracy and the
       forgetting so far written to ``<work_dir>/continual/``
       (``continual_report.json``, ``accuracy_matrix_<model>.csv``) and a
       checkpoint ``task_<t+1>.pth`` (weights only: the optimizer is reset
       at each stage anyway).

    It is an mmengine loop: the runner's hooks (timer, logger, parameter
    scheduler, sampler seed) see every iteration; ``runner.iter`` counts
    iterations over all tasks and stages, ``runner.epoch`` finished tasks.
    The data of a stage is drawn by an ``InfiniteSampler`` seeded per
    (task, stage), and with ``reseed_every_iter`` torch / NumPy / random
    are seeded from (seed, iteration) before each iteration. Tasks are the
    phases of :class:`PhasedTrainLoop`, the teacher and student stages its
    stages: ``--resume`` continues a stage at the right iteration with the
    stage's optimizer and schedulers from the checkpoint.

    Args:
        runner (Runner): The runner.
        dataloader (dict): The train dataloader config. Its dataset is a
            :class:`ClassIncrementalDataset`; the loop builds it once per
            task with ``tasks=[t]``.
        max_epochs (int, optional): Epochs over the task's data per stage.
        max_iters (int, optional): Iterations per stage instead (exactly
            one of the two).
        teacher_max_epochs (int, optional): Epochs of the teacher stage, if
            different. Defaults to None: as the student's.
        teacher_max_iters (int, optional): Iterations of the teacher stage,
            if different (with ``max_iters``).
        num_tasks_to_run (int, optional): Stop after this many tasks (a
            quick run). Defaults to None: all tasks of the data set.
        eval_teacher (bool): Also evaluate the teacher after each task.
            Defaults to True.
        save_checkpoint (bool): Save ``task_<t>.pth`` after each task.
            Defaults to True.
        reseed_every_iter (bool): Reseed before each iteration. Defaults
            to True.
        progress_bar (bool): Show a progress bar per stage. Defaults to
            False.
    """

    PHASE_WORD = 'task'
    REPORT_DIR = 'continual'
    REPORT_HEADING = '\n'
    EVALUATOR_HINT = "val_evaluator=dict(type='TaskAccuracy')"

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, dict],
                 max_epochs: Optional[int] = None,
                 max_iters: Optional[int] = None,
                 teacher_max_epochs: Optional[int] = None,
                 teacher_max_iters: Optional[int] = None,
                 num_tasks_to_run: Optional[int] = None,
                 eval_teacher: bool = True,
                 save_checkpoint: bool = True,
                 reseed_every_iter: bool = True,
                 progress_bar: bool = False) -> None:
        # a bad argument is refused before anything is built
        self._refuse_bad_cfg(
            max_epochs=max_epochs,
            max_iters=max_iters,
            teacher_max_epochs=teacher_max_epochs,
            teacher_max_iters=teacher_max_iters)
        super().__init__(
            runner,
            dataloader,
            reseed_every_iter=reseed_every_iter,
            progress_bar=progress_bar)
        sampler = dict(self.dataloader_cfg.get('sampler') or {})
        sampler.setdefault('type', 'InfiniteSampler')
        sampler.setdefault('shuffle', True)
        self.dataloader_cfg['sampler'] = sampler
        self.by_epoch = max_epochs is not None
        length = max_epochs if self.by_epoch else max_iters
        teacher_length = teacher_max_epochs if self.by_epoch else \
            teacher_max_iters
        self.stage_length = dict(
            student=int(length),
            teacher=int(length if teacher_length is None else teacher_length))
        if min(self.stage_length.values()) < 1:
            raise ValueError(f'stage lengths must be positive, got '
                             f'{self.stage_length}')
        self.eval_teacher = eval_teacher
        self.save_checkpoint = save_checkpoint
        #: the teacher's accuracy matrix (the student's is ``matrix``)
        self.teacher_matrix: Matrix = []
        #: the resume checkpoint's optimizer and schedulers, loaded into
        #: the resumed stage's own
        self._resume_optim: Optional[tuple] = None
        #: one record per stage: task, stage, optimizer id, parameter
        #: count, whether its state was empty at the start, first lr
        self.stage_log: List[dict] = []

        self._check_model()
        self.has_teacher = getattr(self.model, 'teacher', None) is not None
        self.stages = [s for s in STAGES if s == 'student' or self.has_teacher]
        self.optim_cfg = self._take_optim_cfg()
        self.scheduler_cfgs = self._take_scheduler_cfgs()
        self.val_dataloader_cfg = self._take_val_dataloader_cfg()

        full = self._build_dataset(tasks=None)
        self.num_tasks = int(full.num_tasks)
        self.classes_per_task = int(full.classes_per_task)
        if num_tasks_to_run is not None and \
                not 1 <= int(num_tasks_to_run) <= self.num_tasks:
            raise ValueError(f'num_tasks_to_run={num_tasks_to_run} must be '
                             f'in [1, {self.num_tasks}]')
        self.tasks_to_run = int(num_tasks_to_run or self.num_tasks)
        counts = np.bincount(
            [full.get_data_info(i)['task_id'] for i in range(len(full))],
            minlength=self.num_tasks)
        if (counts[:self.tasks_to_run] == 0).any():
            empty = [t + 1 for t in range(self.tasks_to_run) if counts[t] == 0]
            raise ValueError(f'tasks {empty} have no training samples')
        self._check_val_split(full)
        del full
        self.task_sizes = [int(c) for c in counts]
        self.stage_iters = [{
            s: self._num_iters(t, s)
            for s in self.stages
        } for t in range(self.tasks_to_run)]
        self.phase_names = [f'task_{t + 1}' for t in range(self.tasks_to_run)]
        self._set_schedule([[it[s] for s in self.stages]
                            for it in self.stage_iters])
        self._task_dataset = None
        # what the runner (and its hooks) may read before run()
        self.dataloader = self._task_dataloader(0, 'student')
        self._register_state_hook()

    # ------------------------------------------------------------ set-up
    @classmethod
    def check_cfg(cls, cfg: dict) -> List[str]:
        """Check a ``train_cfg`` of this loop before anything is built.

        Run by the tools on the config (see
        :func:`~had_mm.utils.check_train_cfg`) and by ``__init__``: exactly
        one of ``max_epochs`` / ``max_iters``, the teacher's schedule in
        the same unit, every length a positive integer.

        Args:
            cfg (dict): The ``train_cfg`` (keys absent take the defaults).

        Returns:
            list[str]: One line per problem.
        """
        epochs, iters = cfg.get('max_epochs'), cfg.get('max_iters')
        if (epochs is None) == (iters is None):
            return [
                'train_cfg needs exactly one of max_epochs or max_iters '
                '(per stage and task)'
            ]
        problems = []
        t_epochs = cfg.get('teacher_max_epochs')
        t_iters = cfg.get('teacher_max_iters')
        if t_epochs is not None and epochs is None or \
                t_iters is not None and iters is None:
            problems.append('teacher_max_epochs goes with max_epochs and '
                            'teacher_max_iters with max_iters')
        for key in ('max_epochs', 'max_iters', 'teacher_max_epochs',
                    'teacher_max_iters'):
            value = cfg.get(key)
            if value is not None and not is_positive_int(value):
                problems.append(f'train_cfg.{key} must be a positive '
                                f'integer, got {value!r}')
        return problems

    @property
    def matrices(self) -> Dict[str, Matrix]:
        """dict: The accuracy matrix of the student and the teacher."""
        return dict(student=self.matrix, teacher=self.teacher_matrix)

    def _check_model(self) -> None:
        missing = [
            name for name in ('begin_task', 'set_stage', 'stage_parameters')
            if not callable(getattr(self.model, name, None))
        ]
        if missing:
            raise TypeError(f'ContinualDistillLoop needs a model with '
                            f'{", ".join(missing)}() (ContinualDistiller), '
                            f'got {type(self.model).__name__}')
        self._check_val_loop()

    def _take_optim_cfg(self) -> dict:
        cfg = self.runner.optim_wrapper
        if not isinstance(cfg, dict):
            cfg = self.runner.cfg.get('optim_wrapper')
        if not cfg or 'optimizer' not in cfg:
            raise ValueError('ContinualDistillLoop builds an optimizer per '
                             'stage from optim_wrapper.optimizer: set it')
        return copy.deepcopy(dict(cfg))

    def _take_scheduler_cfgs(self) -> List[dict]:
        cfgs = self.runner.param_schedulers
        if cfgs is not None and not isinstance(cfgs, (dict, list)):
            cfgs = self.runner.cfg.get('param_scheduler')
        cfgs = copy.deepcopy(cfgs) or []
        cfgs = [dict(c) for c in (cfgs if isinstance(cfgs, list) else [cfgs])]
        # the loop builds them per stage; the runner must not build them
        # over its own optimizer
        self.runner.param_schedulers = None
        return cfgs

    def _take_val_dataloader_cfg(self) -> dict:
        cfg = self.runner.cfg.get('val_dataloader')
        if not isinstance(cfg, dict):
            raise ValueError('ContinualDistillLoop needs val_dataloader as a '
                             'config dict (it builds one per task)')
        return copy.deepcopy(dict(cfg))

    def _build_dataset(self, tasks: Optional[Sequence[int]], cfg=None):
        cfg = copy.deepcopy(dict(cfg or self.dataloader_cfg['dataset']))
        cfg['tasks'] = tasks
        dataset = DATASETS.build(cfg)
        for key in ('num_tasks', 'classes_per_task'):
            if not hasattr(dataset, key):
                raise TypeError(f'ContinualDistillLoop needs a '
                                f'ClassIncrementalDataset, got '
                                f'{type(dataset).__name__} (no {key})')
        return dataset

    def _check_val_split(self, train) -> None:
        """Build the test data once: same classes, order and tasks."""
        val = self._build_dataset(None, cfg=self.val_dataloader_cfg['dataset'])
        for key in ('class_order', 'num_tasks', 'classes_per_task'):
            if val.metainfo.get(key) != train.metainfo.get(key):
                raise ValueError(
                    f'the train and val data sets differ in {key} '
                    f'({train.metainfo.get(key)} vs '
                    f'{val.metainfo.get(key)}): give both the same '
                    f'num_tasks and class_order / class_order_seed')
        del val

    def _num_iters(self, t: int, stage: str) -> int:
        length = self.stage_length[stage]
        if not self.by_epoch:
            return length
        return self._epochs_to_iters(length, self.task_sizes[t])

    def _task_dataloader(self, t: int, stage: str, dataset=None):
        dataset = dataset if dataset is not None else \
            self._build_dataset([t])
        # a seed per (task, stage)
        return self._build_phase_dataloader(dataset, (self.runner.seed or 0) +
                                            1000 * t + STAGES.index(stage))

    def _stage_dataloader(self, t: int, s: int) -> DataLoader:
        return self._task_dataloader(t, self.stages[s], self._task_dataset)

    # ------------------------------------------------------------ run
    def task_classes(self, t: int) -> tuple:
        """Remapped label range ``[start, end)`` of task ``t``."""
        k = self.classes_per_task
        return t * k, (t + 1) * k

    def _begin_task(self, t: int) -> None:
        start, end = self.task_classes(t)
        self.model.begin_task(t, end, (start, end))

    def _start_phase(self, t: int, resumed: bool) -> None:
        self._begin_task(t)
        self._task_dataset = self._build_dataset([t])

    def _reenter_phase(self, t: int) -> None:
        # the class masks and prompt pool of task t are not in the weights
        self._begin_task(t)

    def _start_stage(self, t: int, s: int, resumed: bool) -> None:
        stage = self.stages[s]
        self.runner.model.train()
        self.model.set_stage(stage)
        iters = self.stage_iters[t][stage]
        done = self._iter - self.stage_start(t, s)
        self._build_stage_optimizer(t, stage, iters, done)
        # the checkpoint's optimizer serves the stage it was written in
        saved, self._resume_optim = self._resume_optim, None
        if resumed:
            self._load_resumed_optim(t, stage, saved)

    def _stage_message(self, t: int, s: int, resumed: bool) -> str:
        stage = self.stages[s]
        start, end = self.task_classes(t)
        return (f'task {t + 1}/{self.tasks_to_run} [{stage}]: classes '
                f'{start}-{end - 1}, {len(self._task_dataset)} images, '
                f'{self.stage_iters[t][stage]} iterations, '
                f'{self.stage_log[-1]["num_params"]} trainable tensors' +
                (f' (resumed at iteration {self._iter})' if resumed else ''))

    def _after_phase(self, t: int) -> None:
        self._task_dataset = None

    def _phase_checkpoint_name(self, t: int) -> Optional[str]:
        return f'task_{t + 1}.pth' if self.save_checkpoint else None

    def _save_phase_checkpoint(self, t: int, **kwargs) -> None:
        # weights only: the optimizer is new at each stage anyway
        super()._save_phase_checkpoint(
            t, save_optimizer=False, save_param_scheduler=False, **kwargs)

    # ----------------------------------------------------------- resume
    def _extra_state(self, at_phase_end: bool) -> dict:
        return dict(
            teacher_matrix=[list(r) for r in self.teacher_matrix],
            stage_iters=[dict(it) for it in self.stage_iters])

    def load_checkpoint_state(self, state: dict, checkpoint: dict) -> None:
        """Restore the matrices; keep the optimizer and schedulers of the
        checkpoint for the resumed stage.

        They belong to the stage's own optimizer (over the stage's
        parameters), not to the runner's, so they are taken out of the
        checkpoint before the runner would load them.

        Args:
            state (dict): The checkpoint's loop state.
            checkpoint (dict): The whole checkpoint.
        """
        super().load_checkpoint_state(state, checkpoint)
        self.teacher_matrix = [
            list(r) for r in state.get('teacher_matrix', [])
        ]
        saved = state.get('stage_iters')
        done = int(checkpoint['meta']['iter'])
        t = self.phase_of(done)
        if saved is not None and t < len(self.stage_iters) and \
                done > self.phase_starts[t] and t < len(saved) and \
                dict(saved[t]) != self.stage_iters[t]:
            raise CheckpointLoadError(
                f'--resume: the stages of task {t + 1}, which had started, '
                f'changed since the checkpoint (at iteration {done}): '
                f'{dict(saved[t])} -> {self.stage_iters[t]} iterations; '
                f'resume with the config that wrote it, or train the new '
                f'schedule in another work_dir.')
        self._resume_optim = (checkpoint.pop('optimizer', None),
                              checkpoint.pop('param_schedulers', None))

    def _load_resumed_optim(self, t: int, stage: str,
                            saved: Optional[tuple]) -> None:
        """Load the checkpoint's optimizer and scheduler states into the
        resumed stage's new ones.

        Args:
            t (int): The task.
            stage (str): The stage.
            saved (tuple, optional): ``(optimizer, param_schedulers)``
                states of the resume checkpoint.
        """
        optimizer, schedulers = saved or (None, None)
        if optimizer is None:
            raise RuntimeError(
                f'cannot resume task {t + 1} [{stage}] mid-way: the '
                f'checkpoint holds no optimizer state (resume from an '
                f'iteration checkpoint of the CheckpointHook)')
        self.runner.optim_wrapper.load_state_dict(optimizer)
        for scheduler, state in zip(self.runner.param_schedulers or [],
                                    schedulers or []):
            scheduler.load_state_dict(state)

    def _build_stage_optimizer(self,
                               t: int,
                               stage: str,
                               iters: int,
                               done: int = 0) -> None:
        """A new optimizer over the stage's parameters, new schedulers.

        Args:
            t (int): The task.
            stage (str): The stage.
            iters (int): The stage's iterations.
            done (int): Iterations of the stage done before (resumed).
        """
        params = [p for p in self.model.stage_parameters() if p.requires_grad]
        if not params:
            raise RuntimeError(f'task {t + 1} [{stage}]: the model has no '
                               f'trainable parameters in this stage')
        cfg = copy.deepcopy(self.optim_cfg)
        optimizer_cfg = dict(cfg.pop('optimizer'))
        for key in ('constructor', 'paramwise_cfg'):
            cfg.pop(key, None)
        cfg.setdefault('type', 'OptimWrapper')
        optimizer = OPTIMIZERS.build(dict(optimizer_cfg, params=params))
        wrapper = OPTIM_WRAPPERS.build(dict(cfg, optimizer=optimizer))
        wrapper.initialize_count_status(self.runner.model, done, iters)
        self.runner.optim_wrapper = wrapper
        self.runner.param_schedulers = self._build_schedulers(iters)
        self.stage_log.append(
            dict(
                task=t,
                stage=stage,
                optimizer_id=id(optimizer),
                num_params=len(params),
                param_ids=[id(p) for p in params],
                state_empty=len(optimizer.state) == 0,
                lr=[g['lr'] for g in optimizer.param_groups]))

    def _build_schedulers(self, iters: int):
        if not self.scheduler_cfgs:
            return None
        cfgs = []
        for cfg in copy.deepcopy(self.scheduler_cfgs):
            # every scheduler runs over the stage, by iteration
            cfg.update(by_epoch=False, begin=0, end=iters)
            if 'T_max' in cfg or 'CosineAnnealing' in str(cfg.get('type', '')):
                cfg['T_max'] = iters
            cfgs.append(cfg)
        return self.runner.build_param_scheduler(cfgs)

    def _is_stale_log_scalar(self, key: str) -> bool:
        # the losses of the other stage
        return key.startswith('train/') and 'loss' in key

    # -------------------------------------------------------- evaluation
    def _evaluate(self, t: int) -> None:
        """Evaluate on the test data of tasks ``0..t``; write the report."""
        val_loop = self.runner.val_loop
        cfg = copy.deepcopy(self.val_dataloader_cfg)
        cfg['dataset'] = self._build_dataset(
            list(range(t + 1)), cfg=cfg['dataset'])
        val_loop.dataloader = self.runner.build_dataloader(
            cfg, seed=self.runner.seed)
        val_loop.evaluator.dataset_meta = cfg['dataset'].metainfo
        models = ['student'] + (['teacher'] if self.has_teacher
                                and self.eval_teacher else [])
        previous = getattr(self.model, 'predict_with', 'student')
        for name in models:
            self.model.predict_with = name
            print_log(
                f'task {t + 1}: evaluating the {name} on tasks 1-{t + 1}',
                logger='current')
            metrics = val_loop.run()
            if name == 'student':
                self._record(t, metrics)
            else:
                self.teacher_matrix.append(self._matrix_row(t, metrics))
        self.model.predict_with = previous
        self.write_report()

    @property
    def num_columns(self) -> int:
        """int: All tasks of the data set, also those not run."""
        return self.num_tasks

    def _metric_key(self, j: int) -> str:
        return f'accuracy_task_{j + 1}'

    def _build_report(self) -> dict:
        return build_continual_report(
            {
                k: v
                for k, v in self.matrices.items() if v
            },
            self.num_tasks,
            task_classes=[self.task_classes(t) for t in range(self.num_tasks)],
            extra=dict(
                tasks_to_run=self.tasks_to_run,
                stages=list(self.stages),
                iterations=[dict(it) for it in self.stage_iters]))

    def _format_report(self, report: dict) -> str:
        return format_continual_report(report)

    def _write_report_files(self, report: dict, out_dir: str):
        return write_continual_report(report, out_dir)
