import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch.utils.data import DataLoader

from had_mm.engine.loops.lifelong_train_loop import LifelongTrainLoop
from had_mm.registry import LOOPS, MODELS


@LOOPS.register_module()
class ClassIncrementalTrainLoop(LifelongTrainLoop):
    """Class-incremental semantic segmentation with HAD, phase by phase.

    :class:`LifelongTrainLoop` with a group of classes per phase instead of
    a task: phase ``t`` trains on the labels of its ``classes`` only (a
    :class:`SelectClasses` transform is inserted after ``LoadAnnotations``
    in the phase's pipeline, every other label becomes ignore), and from
    phase 2 on a frozen copy of the model at the end of the previous phase
    distils the old classes through the model's
    ``attach_teacher(teacher, loss=..., weight=..., old_classes=...)``
    (:class:`IncrementalSegDistiller`). After each phase the mIoU of every
    group seen so far is read from ``mIoU_<name>`` of the evaluator
    (:class:`ClassGroupIoUMetric`); the group matrix and the lifelong
    report (forgetting, BWT; higher is better) go to
    ``<work_dir>/lifelong/``, and ``phase_<t>_<name>.pth`` is saved.

    Phases, data split, optimizer / LR resets and the teacher (the model at
    the end of the previous phase) are those of :class:`LifelongTrainLoop`;
    reseeding, resuming, checkpoints and the report those of
    :class:`PhasedTrainLoop`.

    Args:
        runner (Runner): The runner.
        dataloader (dict): The train dataloader config (any mmseg dataset
            whose pipeline has ``LoadAnnotations`` or ``PackSegInputs``).
        phases (list[dict]): One dict per phase: ``name`` (the column of
            the report; unique), ``classes`` (class indices learnt in the
            phase; disjoint across phases) and either ``max_iters`` or
            ``max_epochs``.
        distill (dict, optional): Distillation loss config, built with
            ``task='semantic'`` unless given. None = fine-tuning. Defaults
            to ``dict(type='had_mm.HADLoss')``.
        distill_weight (float): lambda. 0 also means fine-tuning. Defaults
            to 3.0.
        split (str): ``'all'`` (default): every phase sees the whole train
            split (its own classes' labels only); ``'contiguous'``: phase
            ``t`` sees chunk ``t`` of equal disjoint chunks.
        **kwargs: Other arguments of :class:`LifelongTrainLoop`
            (``num_chunks``, ``reset_optimizer``, ``reset_lr_schedule``,
            ``reseed_every_iter``, ``progress_bar``).
    """

    PHASE_KEYS = ('name', 'classes', 'max_iters', 'max_epochs', 'chunk')
    REPORT_HEADING = ('\nclass-incremental matrix (rows: after phase; mIoU '
                      'per class group)\n')
    EVALUATOR_HINT = 'ClassGroupIoUMetric as val_evaluator'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, dict],
                 phases: Sequence[dict],
                 distill: Optional[dict] = dict(type='had_mm.HADLoss'),
                 distill_weight: float = 3.0,
                 split: str = 'all',
                 num_chunks: Optional[int] = None,
                 reset_optimizer: bool = True,
                 reset_lr_schedule: bool = True,
                 reseed_every_iter: bool = True,
                 progress_bar: bool = True) -> None:
        super().__init__(
            runner,
            dataloader,
            phases,
            distill=distill,
            distill_weight=distill_weight,
            split=split,
            num_chunks=num_chunks,
            reset_optimizer=reset_optimizer,
            reset_lr_schedule=reset_lr_schedule,
            reference_metrics=None,
            reseed_every_iter=reseed_every_iter,
            progress_bar=progress_bar)

    def _phase_names(self) -> List[str]:
        """Phases are named class groups; also sets ``self.classes``."""
        names = [str(p.get('name', '')) for p in self.phases]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise ValueError(f'every phase needs a unique name, got {names}')
        classes = []
        for phase in self.phases:
            cls = [int(c) for c in phase.get('classes') or []]
            if not cls:
                raise ValueError(f'phase {phase} names no classes')
            classes.append(cls)
        flat = [c for cls in classes for c in cls]
        if len(set(flat)) != len(flat):
            raise ValueError(f'a class may be learnt in one phase only, got '
                             f'{classes}')
        self.classes = classes
        return names

    def _check_model_and_data(self) -> None:
        model = self.model
        for name in ('attach_teacher', 'detach_teacher'):
            if not callable(getattr(model, name, None)):
                raise TypeError(f'ClassIncrementalTrainLoop needs a model '
                                f'with {name}() (IncrementalSegDistiller), '
                                f'got {type(model).__name__}')

    def _phase_dataset_cfg(self, t: int) -> dict:
        """The train data set with :class:`SelectClasses` of phase ``t``'s
        class group after its ``LoadAnnotations``."""
        cfg = copy.deepcopy(self.dataloader_cfg['dataset'])
        pipeline = list(cfg.get('pipeline', []))
        # 'mmseg.LoadAnnotations' is LoadAnnotations too
        types = [str(p.get('type')).split('.')[-1] for p in pipeline]
        # scoped: the dataset's Compose builds it in the config's default
        # scope, e.g. mmseg's registry, which does not see had_mm's
        select = dict(type='had_mm.SelectClasses', classes=self.classes[t])
        if 'LoadAnnotations' in types:
            pipeline.insert(types.index('LoadAnnotations') + 1, select)
        elif 'PackSegInputs' in types:
            pipeline.insert(types.index('PackSegInputs'), select)
        else:
            raise ValueError('the train pipeline has neither '
                             'LoadAnnotations nor PackSegInputs: cannot '
                             'insert SelectClasses')
        cfg['pipeline'] = pipeline
        return cfg

    # ------------------------------------------------------ distillation
    def _check_distill(self) -> None:
        """Build the distillation loss and run it once on random logits of
        the old classes of the last phase (a bad argument fails now)."""
        if len(self.phases) < 2 or not self.distill_cfg or \
                self.distill_weight == 0:
            return
        loss = self._build_distill_loss()
        num_old = sum(len(c) for c in self.classes[:-1])
        gen = torch.Generator().manual_seed(0)
        try:
            with torch.no_grad():
                loss(
                    torch.randn(2, num_old, 8, 8, generator=gen),
                    torch.randn(2, num_old, 8, 8, generator=gen))
        except Exception as err:  # any error of the loss's own
            raise ValueError(f'train_cfg.distill ({self.distill_cfg}) fails '
                             f'on the logits of {num_old} old classes: '
                             f'{type(err).__name__}: {err}') from None

    def _build_distill_loss(self) -> torch.nn.Module:
        try:
            return MODELS.build(
                dict(dict(task='semantic'), **self.distill_cfg))
        except Exception as err:  # any error of the loss's own
            raise ValueError(f'train_cfg.distill ({self.distill_cfg}) cannot '
                             f'be built: {type(err).__name__}: '
                             f'{err}') from None

    def _attach_teacher(self, t: int, teacher) -> None:
        """Distil the classes of the phases before ``t`` from
        ``teacher``."""
        loss = self._build_distill_loss()
        old = [c for cls in self.classes[:t] for c in cls]
        self.model.attach_teacher(
            teacher, loss=loss, weight=self.distill_weight, old_classes=old)

    # -------------------------------------------------------- evaluation
    def _validate(self, t: int) -> Dict[str, float]:
        groups = dict(zip(self.phase_names, self.classes))
        for metric in self.runner.val_loop.evaluator.metrics:
            if hasattr(metric, 'set_class_groups'):
                metric.set_class_groups(groups)
        return self.runner.val_loop.run()

    def _metric_key(self, j: int) -> str:
        return f'mIoU_{self.phase_names[j]}'

    def _report_kwargs(self) -> dict:
        # mIoU of every group: higher is better
        return dict(
            directions=[1] * len(self.phase_names),
            final_metrics=self.final_metrics[-1],
            metric_names=['mIoU'] * len(self.phase_names))
