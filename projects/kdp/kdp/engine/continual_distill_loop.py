"""Continual distillation: teacher then student on each task in turn."""
import copy
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

from had_mm.registry import DATASETS, LOOPS, OPTIM_WRAPPERS, OPTIMIZERS
from ..evaluation.continual_metrics import (build_continual_report,
                                            format_continual_report,
                                            write_continual_report)

STAGES = ('teacher', 'student')


@LOOPS.register_module()
class ContinualDistillLoop(BaseLoop):
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
    are seeded from (seed, iteration) before each iteration.

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
        self._runner = runner
        if not isinstance(dataloader, dict):
            raise TypeError('ContinualDistillLoop builds one dataloader per '
                            'task: train_dataloader must be a config dict')
        if (max_epochs is None) == (max_iters is None):
            raise ValueError('train_cfg needs exactly one of max_epochs or '
                             'max_iters (per stage and task)')
        if teacher_max_epochs is not None and max_epochs is None or \
                teacher_max_iters is not None and max_iters is None:
            raise ValueError('teacher_max_epochs goes with max_epochs and '
                             'teacher_max_iters with max_iters')
        self.dataloader_cfg = copy.deepcopy(dataloader)
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
        self.reseed_every_iter = reseed_every_iter
        self.progress_bar = progress_bar
        self._epoch = 0  # finished tasks
        self._iter = 0  # finished iterations over all tasks and stages
        self.matrices: Dict[str, List[List[Optional[float]]]] = dict(
            student=[], teacher=[])
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
        self.task_starts = np.cumsum(
            [0] + [sum(it.values()) for it in self.stage_iters]).tolist()
        # what the runner (and its hooks) may read before run()
        self.dataloader = self._stage_dataloader(0, 'student')

    # ------------------------------------------------------------ set-up
    @property
    def max_epochs(self) -> int:
        """int: Number of tasks to run."""
        return self.tasks_to_run

    @property
    def max_iters(self) -> int:
        """int: Iterations over all tasks and stages."""
        return int(self.task_starts[-1])

    @property
    def epoch(self) -> int:
        """int: Finished tasks."""
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

    def _check_model(self) -> None:
        missing = [
            name for name in ('begin_task', 'set_stage', 'stage_parameters')
            if not callable(getattr(self.model, name, None))
        ]
        if missing:
            raise TypeError(f'ContinualDistillLoop needs a model with '
                            f'{", ".join(missing)}() (ContinualDistiller), '
                            f'got {type(self.model).__name__}')
        if self.runner._val_loop is None:
            raise ValueError('ContinualDistillLoop evaluates after each task: '
                             'set val_dataloader, val_cfg and val_evaluator')

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
        per_iter = self.dataloader_cfg.get('batch_size', 1) * \
            get_world_size()
        return length * math.ceil(self.task_sizes[t] / per_iter)

    def _stage_dataloader(self, t: int, stage: str, dataset=None):
        cfg = copy.deepcopy(self.dataloader_cfg)
        cfg['dataset'] = dataset if dataset is not None else \
            self._build_dataset([t])
        sampler = dict(cfg.get('sampler') or {})
        sampler.setdefault('type', 'InfiniteSampler')
        sampler.setdefault('shuffle', True)
        # a seed per (task, stage): the data order does not depend on what
        # ran before
        if sampler.get('seed') is None:
            sampler['seed'] = ((self.runner.seed or 0) + 1000 * t +
                               STAGES.index(stage))
        cfg['sampler'] = sampler
        return self.runner.build_dataloader(
            cfg, seed=self.runner.seed, diff_rank_seed=False)

    # ------------------------------------------------------------ run
    def run(self) -> torch.nn.Module:
        """Run every task: train the stages, evaluate, report, save.

        Returns:
            nn.Module: The runner's model.
        """
        if self.runner._resume:
            raise RuntimeError('ContinualDistillLoop cannot resume a run; '
                               'start a new one (task checkpoints load with '
                               'load_from or tools/test.py)')
        self.runner.call_hook('before_train')
        for t in range(self.tasks_to_run):
            self._run_task(t)
        self.runner.call_hook('after_train')
        return self.runner.model

    def task_classes(self, t: int) -> tuple:
        """Remapped label range ``[start, end)`` of task ``t``."""
        k = self.classes_per_task
        return t * k, (t + 1) * k

    def _run_task(self, t: int) -> None:
        self._epoch = t
        start, end = self.task_classes(t)
        self.model.begin_task(t, end, (start, end))
        dataset = self._build_dataset([t])
        for stage in self.stages:
            self._run_stage(t, stage, dataset)
        self._evaluate(t)
        if self.save_checkpoint:
            # by_epoch=True stores epoch + 1 = finished tasks
            self.runner.save_checkpoint(
                self.runner.work_dir,
                filename=f'task_{t + 1}.pth',
                by_epoch=True,
                save_optimizer=False,
                save_param_scheduler=False)
        self._epoch = t + 1

    def _run_stage(self, t: int, stage: str, dataset) -> None:
        runner, model = self.runner, self.model
        runner.model.train()
        model.set_stage(stage)
        iters = self.stage_iters[t][stage]
        self._build_stage_optimizer(t, stage, iters)
        self.dataloader = self._stage_dataloader(t, stage, dataset)
        start, end = self.task_classes(t)
        print_log(
            f'task {t + 1}/{self.tasks_to_run} [{stage}]: classes '
            f'{start}-{end - 1}, {len(dataset)} images, {iters} iterations, '
            f'{self.stage_log[-1]["num_params"]} trainable tensors',
            logger='current')
        self._drop_stale_log_scalars()
        runner.call_hook('before_train_epoch')
        iterator = iter(self.dataloader)
        bar = ProgressBar(iters) if (self.progress_bar
                                     and get_rank() == 0) else None
        for idx in range(iters):
            self._reseed(self._iter)
            data_batch = next(iterator)
            runner.call_hook(
                'before_train_iter', batch_idx=idx, data_batch=data_batch)
            outputs = runner.model.train_step(
                data_batch, optim_wrapper=runner.optim_wrapper)
            runner.call_hook(
                'after_train_iter',
                batch_idx=idx,
                data_batch=data_batch,
                outputs=outputs)
            self._iter += 1
            if bar is not None:
                bar.update()
        if bar is not None:
            print()
        runner.call_hook('after_train_epoch')

    def _build_stage_optimizer(self, t: int, stage: str, iters: int) -> None:
        """A new optimizer over the stage's parameters, new schedulers."""
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
        wrapper.initialize_count_status(self.runner.model, 0, iters)
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

    def _drop_stale_log_scalars(self) -> None:
        # the losses of the other stage would be logged as if current
        scalars = self.runner.message_hub.log_scalars
        for key in list(scalars):
            if key.startswith('train/') and 'loss' in key:
                scalars.pop(key)

    def _reseed(self, it: int) -> None:
        if not self.reseed_every_iter:
            return
        seed = ((self.runner.seed or 0) * 1_000_003 + it * 101 +
                get_rank()) % (2**31)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

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
            row = []
            for j in range(self.num_tasks):
                if j > t:
                    row.append(None)
                    continue
                key = f'accuracy_task_{j + 1}'
                if key not in metrics:
                    raise KeyError(f'the evaluator returned no {key}; use '
                                   f"val_evaluator=dict(type='TaskAccuracy')")
                row.append(float(metrics[key]))
            self.matrices[name].append(row)
        self.model.predict_with = previous
        self.write_report()

    def write_report(self) -> Optional[dict]:
        """Write the report of the tasks so far (rank 0).

        Returns:
            dict | None: The report; None before any task.
        """
        if not self.matrices['student']:
            return None
        report = build_continual_report(
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
        print_log('\n' + format_continual_report(report), logger='current')
        if get_rank() == 0:
            paths = write_continual_report(
                report, osp.join(self.runner.work_dir, 'continual'))
            print_log(f'continual report: {paths}', logger='current')
        self.report = report
        return report
