import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from had_mm.registry import MODELS
from .prompt_continual_classifier import (DEFAULT_DATA_PREPROCESSOR,
                                          PromptContinualClassifier)


@MODELS.register_module()
class ContinualDistiller(BaseModel):
    """A teacher and a student prompt-based continual learner, in stages.

    At each task the loop trains the teacher first (``set_stage(
    'teacher')``: cross-entropy + prompt loss), then the student
    (``set_stage('student')``: its loss, distilling from the frozen teacher
    if the student has a ``distill`` mode). ``forward(mode='loss')`` (and so
    ``train_step``) goes to the active stage's model; ``'predict'`` /
    ``'tensor'`` (``val_step`` / ``test_step``) to :attr:`predict_with`.

    Each model is built (and initialised) from its own random stream drawn
    from the global one, so the teacher is the same whether the student
    learns alone, with KD or with KDP (a fair comparison at one seed).

    Both models are children (both in the state dict); the inactive one is
    kept in eval mode, and in the student stage the teacher only runs under
    ``torch.no_grad``. ``requires_grad`` is not toggled between stages (so a
    DDP wrapper built once sees the same parameters; it needs
    ``find_unused_parameters=True``): build each stage's optimizer from
    :meth:`stage_parameters`.

    Args:
        student (dict): Config of the student ``PromptContinualClassifier``
            (with ``distill`` for KD / KDP / DeiT token / DKD / FitNets /
            ReviewKD, or without).
        teacher (dict, optional): Config of the teacher
            ``PromptContinualClassifier`` (without ``distill``). None: the
            student learns alone (only the ``'student'`` stage; its
            ``distill`` must be None or a mode that needs no teacher, such
            as ``KDPCapacityControl``). Defaults to None.
        predict_with (str): ``'student'`` or ``'teacher'``. Defaults to
            ``'student'``.
        data_preprocessor (dict, optional): Defaults to the student
            config's, else ``DEFAULT_DATA_PREPROCESSOR``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    STAGES = ('teacher', 'student')

    def __init__(self,
                 student: dict,
                 teacher: Optional[dict] = None,
                 predict_with: str = 'student',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(student).get('data_preprocessor')
        if data_preprocessor is None:
            data_preprocessor = copy.deepcopy(DEFAULT_DATA_PREPROCESSOR)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        # one draw from the global stream seeds both models' own streams
        self._build_seed = int(torch.randint(2**31 - 2, ()).item())
        # the teacher first: a feature mode of the student needs its shape
        # (each model has its own random stream, so the order is free)
        teacher_model = None if teacher is None else self._build(
            teacher, 'teacher', self._build_seed + 1)
        student = self._with_teacher_shape(student, teacher_model)
        self.student = self._build(student, 'student', self._build_seed)
        if teacher_model is not None:
            self.teacher = teacher_model
            if self.teacher.num_classes != self.student.num_classes:
                raise ValueError(
                    f'ContinualDistiller: the teacher has '
                    f'{self.teacher.num_classes} classes, the student '
                    f'{self.student.num_classes}')
            if self.teacher.distill is not None:
                raise ValueError('ContinualDistiller: the teacher cannot '
                                 'have a distill mode')
            if self.student.distill is not None:
                # fail at build time, not after the first teacher stage
                self.student.distill.check_teacher(self.teacher.backbone,
                                                   self.student.backbone)
        else:
            self.teacher = None
            if self.student.distill is not None and \
                    self.student.distill.needs_teacher:
                raise ValueError(
                    f'ContinualDistiller: the student distils '
                    f'({type(self.student.distill).__name__}) but '
                    f'teacher=None; give a teacher config or drop the '
                    f'student\'s distill')
        self._stage = 'student'
        self._predict_with = 'student'
        self.set_stage('teacher' if self.teacher is not None else 'student')
        self.predict_with = predict_with

    def init_weights(self) -> None:
        """Initialise each model from its own random stream (see above)."""
        for offset, name in enumerate(('student', 'teacher')):
            model = getattr(self, name)
            if model is not None:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(self._build_seed + offset)
                    model.init_weights()
        self._is_init = True

    @staticmethod
    def _with_teacher_shape(
            student: dict,
            teacher: Optional[PromptContinualClassifier]) -> dict:
        """The student config with its feature mode's ``teacher_dims`` and
        ``teacher_num_layers`` filled in from the teacher's backbone."""
        distill = dict(student).get('distill')
        if teacher is None or distill is None:
            return student
        mode = distill.get('type')
        mode = MODELS.get(mode) if isinstance(mode, str) else mode
        if not getattr(mode, 'needs_teacher_shape', False):
            return student
        student = copy.deepcopy(dict(student))
        distill = dict(distill)
        vit = teacher.backbone
        for key, value in (('teacher_dims', vit.embed_dims),
                           ('teacher_num_layers', vit.num_layers)):
            if distill.get(key) is not None and distill[key] != value:
                raise ValueError(
                    f'ContinualDistiller: student.distill.{key}='
                    f'{distill[key]} differs from the teacher\'s backbone '
                    f'({key}={value}); leave it out')
            distill[key] = value
        student['distill'] = distill
        return student

    @staticmethod
    def _build(cfg: dict, name: str, seed: int) -> PromptContinualClassifier:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = MODELS.build(cfg)
        if not isinstance(model, PromptContinualClassifier):
            raise TypeError(f'ContinualDistiller: {name} must be a '
                            f'PromptContinualClassifier, got '
                            f'{type(model).__name__}')
        return model

    # ----------------------------------------------------------- stages
    @property
    def stage(self) -> str:
        """str: The active stage, ``'teacher'`` or ``'student'``."""
        return self._stage

    @property
    def active_model(self) -> PromptContinualClassifier:
        """PromptContinualClassifier: The model trained in this stage."""
        return self.teacher if self._stage == 'teacher' else self.student

    @property
    def predict_with(self) -> str:
        """str: The model that predicts, ``'student'`` or ``'teacher'``."""
        return self._predict_with

    @predict_with.setter
    def predict_with(self, value: str) -> None:
        if value not in self.STAGES:
            raise ValueError(f'predict_with={value!r} must be one of '
                             f'{self.STAGES}')
        if value == 'teacher' and self.teacher is None:
            raise ValueError("predict_with='teacher' but the model has no "
                             'teacher (teacher=None)')
        self._predict_with = value

    @property
    def predict_model(self) -> PromptContinualClassifier:
        """PromptContinualClassifier: The model of :attr:`predict_with`."""
        return self.teacher if self._predict_with == 'teacher' \
            else self.student

    def set_stage(self, stage: str) -> None:
        """Activate a stage.

        ``'student'`` attaches the teacher to the student (if it has a
        ``distill`` mode and there is a teacher), with ``freeze=False``:
        the teacher stays this model's child, which moves it and trains it
        in its own stage; ``'teacher'`` detaches it again, so the student's
        ``train()`` does not hold the training teacher in eval mode.

        Args:
            stage (str): ``'teacher'`` or ``'student'``.
        """
        if stage not in self.STAGES:
            raise ValueError(f'set_stage: stage={stage!r} must be one of '
                             f'{self.STAGES}')
        if stage == 'teacher' and self.teacher is None:
            raise ValueError("set_stage('teacher'): the model has no "
                             'teacher (teacher=None: the student learns '
                             'alone)')
        self._stage = stage
        if stage == 'student' and self.teacher is not None and \
                self.student.distill is not None:
            self.student.attach_teacher(self.teacher, freeze=False)
        elif stage == 'teacher':
            self.student.detach_teacher()
        self.train(self.training)

    def stage_parameters(self) -> List[nn.Parameter]:
        """The trainable parameters of the active stage's model.

        Returns:
            list[nn.Parameter]: Its prompts, keys, tokens and heads (for a
            fresh optimizer per task and stage).
        """
        return self.active_model.trainable_parameters()

    def train(self, mode: bool = True) -> 'ContinualDistiller':
        """Set the mode; the inactive model stays in eval mode.

        Args:
            mode (bool): Training mode. Defaults to True.

        Returns:
            ContinualDistiller: self.
        """
        super().train(mode)
        if self.teacher is not None and self._stage == 'student':
            self.teacher.eval()
        elif self._stage == 'teacher':
            self.student.eval()
        return self

    def begin_task(self, task_id: int, classes_seen: int,
                   task_classes: Sequence[int]) -> None:
        """Start a task in both models (see
        :meth:`PromptContinualClassifier.begin_task`).

        Args:
            task_id (int): The task index, 0-based.
            classes_seen (int): Classes seen including this task's.
            task_classes (Sequence[int]): This task's ``(start, end)``.
        """
        self.student.begin_task(task_id, classes_seen, task_classes)
        if self.teacher is not None:
            self.teacher.begin_task(task_id, classes_seen, task_classes)

    # ---------------------------------------------------------- forward
    def forward(
            self,
            inputs: Tensor,
            data_samples: Optional[List[DataSample]] = None,
            mode: str = 'tensor') -> Union[Dict[str, Tensor], list, Tensor]:
        """``'loss'``: the active model's; ``'predict'`` / ``'tensor'``:
        the :attr:`predict_with` model's.

        Args:
            inputs (Tensor): Pre-processed images.
            data_samples (list[DataSample], optional): Data samples.
                Defaults to None.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.
                Defaults to ``'tensor'``.

        Returns:
            dict | list | Tensor: Losses, predictions or logits.
        """
        if mode == 'loss':
            return self.active_model.loss(inputs, data_samples)
        if mode in ('predict', 'tensor'):
            return self.predict_model(inputs, data_samples, mode=mode)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           f'predict and tensor mode')

    def loss(self, inputs: Tensor,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """The active model's losses.

        Args:
            inputs (Tensor): Pre-processed images.
            data_samples (list[DataSample]): Samples with ``gt_label``.

        Returns:
            dict[str, Tensor]: The loss terms.
        """
        return self.active_model.loss(inputs, data_samples)

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """The :attr:`predict_with` model's predictions.

        Args:
            inputs (Tensor): Pre-processed images.
            data_samples (list[DataSample], optional): Data samples.
                Defaults to None.

        Returns:
            list[DataSample]: With ``pred_score`` and ``pred_label``.
        """
        return self.predict_model.predict(inputs, data_samples)
