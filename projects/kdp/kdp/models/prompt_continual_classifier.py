import copy
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.structures import DataSample
from torch import Tensor

from had_mm.models.distill import FrozenTeacherMixin
from had_mm.registry import MODELS
from .distill.base_distill import BaseDistill
from .distill.distill_inputs import DistillInputs
from .prompted_vit import encode_tokens, encode_tokens_and_features
from .prompts.base_prompt_pool import BasePromptPool
from .utils import load_vit_checkpoint, merge_prefixes

#: The data pre-processor used when none is given: mmpretrain's, with the
#: normalisation of mmpretrain's ViT checkpoints.
DEFAULT_DATA_PREPROCESSOR = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=True)


def _inject(cfg: dict, owner: str, **values) -> dict:
    """Copy ``cfg`` and set ``values`` (an explicit, different value is an
    error)."""
    cfg = copy.deepcopy(dict(cfg))
    for key, value in values.items():
        if cfg.get(key) is not None and cfg[key] != value:
            raise ValueError(f'{owner}: {key}={cfg[key]} differs from the '
                             f'backbone ({key}={value}); leave it out')
        cfg[key] = value
    return cfg


@MODELS.register_module()
class PromptContinualClassifier(FrozenTeacherMixin, BaseModel):
    """Prompt-based class-incremental classifier on a frozen mmpretrain ViT.

    The image goes through the frozen ``backbone`` with the prefix prompts
    of the prompt pool (selected by the query, the final CLS feature of the
    frozen ``query`` ViT) and, with a ``distill`` mode, its tokens and
    prompts; the linear head ``last`` classifies the CLS output over all
    ``num_classes`` classes.

    Class-incremental masking (set by :meth:`begin_task`): in training only
    the current task's logits ``[start, end)`` take part in the losses
    (the others are masked to ``-inf``, and the labels must lie in the
    slice); at test time the logits of unseen classes (``>= classes_seen``)
    are masked.

    Losses (:meth:`loss`): ``loss_ce`` (cross-entropy of ``last(CLS)``) and
    ``loss_prompt`` (the pool's loss); with a ``distill`` mode and a teacher
    (``attach_teacher(teacher)``, see
    :class:`~had_mm.models.distill.FrozenTeacherMixin`), the mode's terms
    (``loss_ce`` weighted by ``1 - a``, ``loss_kd``, ...) against the
    teacher's CLS logits (and, for a feature mode, the teacher's layer
    outputs), computed without gradients.

    Trainable: the prompt pool, the distillation mode's tokens / prompts /
    heads and ``last``. The backbone and the query ViT are frozen and stay
    in eval mode.

    Args:
        backbone (dict): Config of an mmpretrain ViT: ``type='PromptedViT'``
            (had_mm) or ``'mmpretrain.VisionTransformer'``, any ``arch``
            (e.g. ``'deit-small'`` or a dict ``embed_dims, num_layers,
            num_heads, feedforward_channels``), ``img_size``,
            ``patch_size``...
        num_classes (int): Classes of the whole sequence.
        prompt (dict, optional): Prompt pool config, e.g.
            ``dict(type='L2PPrompt')``, ``'DualPrompt'`` or ``'CODAPrompt'``;
            ``embed_dims``, ``key_dims`` and ``num_layers`` are filled in
            from the backbone and query. None: no prompts. Defaults to None.
        query (dict, optional): Config of the query ViT (the student's
            size). None: the frozen backbone itself, run without prompts
            (the same features as a frozen copy, without the copy).
            Defaults to None.
        backbone_checkpoint (str, optional): Pretrained weights of the
            backbone (mmpretrain classifier checkpoint or bare backbone
            state dict). Defaults to None.
        query_checkpoint (str, optional): Pretrained weights of the query
            ViT (only with ``query``). Defaults to None.
        distill (dict, optional): Distillation mode: ``dict(type=
            'KDPDistill', alpha=0.5, temperature=2.0, prompt_length=6)``,
            ``dict(type='LogitKD', ...)``, ``'DistTokenKD'``,
            ``'DKDDistill'``, ``'FitNetsDistill'`` or ``'ReviewKDDistill'``;
            ``embed_dims``, ``num_layers``, ``num_classes`` are filled in
            (and, in a :class:`ContinualDistiller`, a feature mode's
            ``teacher_dims`` and ``teacher_num_layers``). None: no
            distillation. Defaults to None.
        num_tasks (int, optional): Number of tasks, given to the prompt
            pool. None: ``ceil(num_classes / task size)`` at
            :meth:`begin_task`. Defaults to None.
        data_preprocessor (dict, optional): Defaults to
            :data:`DEFAULT_DATA_PREPROCESSOR` (mmpretrain's
            ``ClsDataPreprocessor``, mean = std = 127.5, to RGB).
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 prompt: Optional[dict] = None,
                 query: Optional[dict] = None,
                 backbone_checkpoint: Optional[str] = None,
                 query_checkpoint: Optional[str] = None,
                 distill: Optional[dict] = None,
                 num_tasks: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = copy.deepcopy(DEFAULT_DATA_PREPROCESSOR)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'PromptContinualClassifier: num_classes='
                             f'{num_classes!r} must be a positive integer')
        self.num_classes = num_classes
        self.num_tasks = num_tasks
        self.backbone_checkpoint = backbone_checkpoint
        self.query_checkpoint = query_checkpoint

        self.backbone = self._build_vit(backbone, 'backbone')
        if backbone_checkpoint is not None:
            load_vit_checkpoint(self.backbone, backbone_checkpoint,
                                'backbone_checkpoint')
        if query is None:
            if query_checkpoint is not None:
                raise ValueError('PromptContinualClassifier: '
                                 'query_checkpoint needs a query config')
            self.query = None
        else:
            self.query = self._build_vit(query, 'query')
            if query_checkpoint is not None:
                load_vit_checkpoint(self.query, query_checkpoint,
                                    'query_checkpoint')
        for vit in (self.backbone, self.query):
            if vit is not None:
                vit.requires_grad_(False)
                vit.eval()

        embed_dims = self.backbone.embed_dims
        depth = self.backbone.num_layers
        if prompt is not None:
            cfg = _inject(
                prompt,
                'prompt',
                embed_dims=embed_dims,
                key_dims=self.query_vit.embed_dims,
                num_layers=depth)
            self.prompt = MODELS.build(cfg)
            if not isinstance(self.prompt, BasePromptPool):
                raise TypeError(f'prompt: {type(self.prompt).__name__} is '
                                f'not a prompt pool (L2PPrompt, DualPrompt, '
                                f'CODAPrompt)')
            self.prompt.check_depth(depth)
        else:
            self.prompt = None
        self.last = nn.Linear(embed_dims, num_classes)
        if distill is not None:
            cfg = _inject(
                distill,
                'distill',
                embed_dims=embed_dims,
                num_layers=depth,
                num_classes=num_classes)
            self.distill = MODELS.build(cfg)
            if not isinstance(self.distill, BaseDistill):
                raise TypeError(f'distill: {type(self.distill).__name__} '
                                f'is not a distillation mode (KDPDistill, '
                                f'LogitKD, DistTokenKD, DKDDistill, '
                                f'FitNetsDistill, ReviewKDDistill)')
            self.distill.check_depth(depth)
        else:
            self.distill = None

        self.task_id = 0
        self.task_classes = (0, num_classes)
        self.classes_seen = num_classes

    @staticmethod
    def _build_vit(cfg: dict, name: str) -> VisionTransformer:
        vit = MODELS.build(cfg)
        if not isinstance(vit, VisionTransformer):
            raise TypeError(
                f'{name}: expected an mmpretrain VisionTransformer '
                f'(type="PromptedViT" or "mmpretrain.VisionTransformer"), '
                f'got {type(vit).__module__}.{type(vit).__name__}')
        if vit.cls_token is None:
            raise ValueError(f'{name}: the ViT needs a class token '
                             f'(with_cls_token=True)')
        return vit

    # ------------------------------------------------------------ state
    @property
    def query_vit(self) -> VisionTransformer:
        """VisionTransformer: The query ViT (the backbone if no
        ``query``)."""
        return self.backbone if self.query is None else self.query

    def _on_attach_teacher(self, teacher: nn.Module) -> None:
        """Check a teacher given to :meth:`attach_teacher`.

        The teacher is held outside this module's children (no state dict,
        optimizer or DDP entry), kept in eval mode and only run under
        ``torch.no_grad``. :class:`ContinualDistiller` attaches its own
        teacher child with ``freeze=False``: it keeps its parameters as
        they are for DDP (no gradient reaches them anyway) and the
        distiller moves it.

        Args:
            teacher (PromptContinualClassifier): The teacher, with the same
                ``num_classes``.
        """
        if not isinstance(teacher, PromptContinualClassifier):
            raise TypeError(f'attach_teacher: expected a '
                            f'PromptContinualClassifier, got '
                            f'{type(teacher).__name__}')
        if teacher.num_classes != self.num_classes:
            raise ValueError(f'attach_teacher: the teacher has '
                             f'{teacher.num_classes} classes, the student '
                             f'{self.num_classes}')
        if self.distill is not None:
            self.distill.check_teacher(teacher.backbone, self.backbone)

    def _trainable_modules(self) -> List[nn.Module]:
        return [
            m for m in (self.prompt, self.distill, self.last) if m is not None
        ]

    def trainable_parameters(self) -> List[nn.Parameter]:
        """The parameters to optimise: prompts, keys, tokens, heads.

        Returns:
            list[nn.Parameter]: Those with ``requires_grad`` among the
            prompt pool's, the distillation mode's and ``last``'s.
        """
        return [
            p for m in self._trainable_modules() for p in m.parameters()
            if p.requires_grad
        ]

    def train(self, mode: bool = True) -> 'PromptContinualClassifier':
        """Set the mode; the backbone and the query ViT stay in eval.

        Args:
            mode (bool): Training mode. Defaults to True.

        Returns:
            PromptContinualClassifier: self.
        """
        super().train(mode)
        self.backbone.eval()
        if self.query is not None:
            self.query.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the ViTs that were not loaded from a checkpoint.

        The prompts and heads are initialised at construction; a ViT
        loaded from ``*_checkpoint`` keeps its weights (mmengine's runner
        calls ``init_weights`` after building the model).
        """
        if self.backbone_checkpoint is None:
            self.backbone.init_weights()
        if self.query is not None and self.query_checkpoint is None:
            self.query.init_weights()
        self._is_init = True

    def begin_task(self, task_id: int, classes_seen: int,
                   task_classes: Sequence[int]) -> None:
        """Start task ``task_id``: set the class masks and the prompt pool.

        Args:
            task_id (int): The task index, 0-based.
            classes_seen (int): Classes seen so far including this task's
                (test-time logits ``>= classes_seen`` are masked; a value
                below ``end`` is taken as ``end``: the current task's
                classes are always visible).
            task_classes (Sequence[int]): This task's classes ``(start,
                end)``, end exclusive.
        """
        start, end = (int(c) for c in task_classes)
        if not 0 <= start < end <= self.num_classes:
            raise ValueError(
                f'begin_task: task_classes=({start}, {end}) must satisfy '
                f'0 <= start < end <= num_classes={self.num_classes}')
        seen = min(max(int(classes_seen), end), self.num_classes)
        self.task_id = int(task_id)
        self.task_classes = (start, end)
        self.classes_seen = seen
        if self.prompt is not None:
            num_tasks = self.num_tasks or math.ceil(self.num_classes /
                                                    (end - start))
            self.prompt.begin_task(self.task_id, num_tasks)

    # ---------------------------------------------------------- forward
    def extract_query(self, inputs: Tensor) -> Tensor:
        """The query feature: the query ViT's final CLS (no gradient).

        Args:
            inputs (Tensor): Pre-processed images, ``B x 3 x H x W``.

        Returns:
            Tensor: ``B x key_dims``.
        """
        with torch.no_grad():
            return encode_tokens(self.query_vit, inputs)[:, 0]

    def forward_outputs(
        self,
        inputs: Tensor,
        train: bool = False,
        feature_layers: Sequence[int] = ()
    ) -> Tuple[Tensor, Optional[Tensor], Tensor, Dict[int, Tensor], Tuple[
            int, int]]:
        """Logits of both heads, the prompt loss and layer outputs.

        Args:
            inputs (Tensor): Pre-processed images, ``B x 3 x H x W``.
            train (bool): Training-time prompt selection. Defaults to
                False.
            feature_layers (Sequence[int]): Backbone layers whose output
                tokens to return. Defaults to ``()``.

        Returns:
            tuple: ``last(CLS)`` (``B x num_classes``), the token head's
            logits (None without a token), the prompt loss, ``{layer: B x
            (1 + HW) x D}`` (the distillation mode's extra tokens dropped)
            and the patch grid ``(H, W)``.
        """
        batch = inputs.shape[0]
        prefixes, prompt_loss = {}, None
        if self.prompt is not None:
            prefixes, prompt_loss = self.prompt(
                self.extract_query(inputs), train=train)
        tokens = None
        if self.distill is not None:
            distill_prefixes, tokens = self.distill.prompts(batch)
            prefixes = merge_prefixes(prefixes, distill_prefixes)
        feats, layer_feats, grid = encode_tokens_and_features(
            self.backbone, inputs, prefixes, tokens, feature_layers)
        cls_logits = self.last(feats[:, 0])
        token_logits = None
        if tokens is not None:
            num = tokens.shape[1]
            token_logits = self.distill.token_logits(feats[:, -num:])
            layer_feats = {i: f[:, :-num] for i, f in layer_feats.items()}
        if prompt_loss is None:
            prompt_loss = cls_logits.new_zeros(())
        return cls_logits, token_logits, prompt_loss, layer_feats, grid

    def forward_logits(
            self,
            inputs: Tensor,
            train: bool = False) -> Tuple[Tensor, Optional[Tensor], Tensor]:
        """Logits of the CLS head and of the distillation token head.

        Args:
            inputs (Tensor): Pre-processed images, ``B x 3 x H x W``.
            train (bool): Training-time prompt selection. Defaults to
                False.

        Returns:
            tuple[Tensor, Tensor | None, Tensor]: ``last(CLS)`` (``B x
            num_classes``), the token head's logits (None without a token)
            and the prompt loss.
        """
        return self.forward_outputs(inputs, train)[:3]

    def predict_logits(self, inputs: Tensor) -> Tensor:
        """The inference logits (not masked).

        ``last(CLS)``, or the distillation mode's rule (KDP: ``(1 - a)
        last(CLS) + a kd_last(KD)``; DeiT token: the mean of both heads).

        Args:
            inputs (Tensor): Pre-processed images.

        Returns:
            Tensor: ``B x num_classes``.
        """
        cls_logits, token_logits, _ = self.forward_logits(inputs)
        if self.distill is None:
            return cls_logits
        return self.distill.predict_logits(cls_logits, token_logits)

    def teacher_logits(self, inputs: Tensor) -> Tensor:
        """This model's CLS logits as a teacher (test-time prompt
        selection, no gradient).

        Args:
            inputs (Tensor): Pre-processed images.

        Returns:
            Tensor: ``last(CLS)``, ``B x num_classes``.
        """
        with torch.no_grad():
            return self.forward_logits(inputs, train=False)[0]

    def teacher_outputs(
        self, inputs: Tensor, feature_layers: Sequence[int]
    ) -> Tuple[Tensor, Dict[int, Tensor], Tuple[int, int]]:
        """This model's CLS logits and layer outputs as a teacher
        (test-time prompt selection, no gradient).

        Args:
            inputs (Tensor): Pre-processed images.
            feature_layers (Sequence[int]): Backbone layers to return.

        Returns:
            tuple: ``last(CLS)`` (``B x num_classes``), ``{layer: B x (1 +
            HW) x D}`` and the patch grid.
        """
        with torch.no_grad():
            outputs = self.forward_outputs(
                inputs, train=False, feature_layers=feature_layers)
        return outputs[0], outputs[3], outputs[4]

    def mask_unseen(self, logits: Tensor) -> Tensor:
        """Mask the logits of unseen classes (``>= classes_seen``) to
        ``-inf``.

        Args:
            logits (Tensor): ``B x num_classes``.

        Returns:
            Tensor: The masked logits.
        """
        if self.classes_seen >= logits.shape[1]:
            return logits
        logits = logits.clone()
        logits[:, self.classes_seen:] = float('-inf')
        return logits

    def mask_to_task(self, logits: Tensor) -> Tensor:
        """Mask every logit outside the current task's slice to ``-inf``
        (the training-time mask; the losses use the slice directly).

        Args:
            logits (Tensor): ``B x num_classes``.

        Returns:
            Tensor: The masked logits.
        """
        start, end = self.task_classes
        masked = torch.full_like(logits, float('-inf'))
        masked[:, start:end] = logits[:, start:end]
        return masked

    def forward(
            self,
            inputs: Tensor,
            data_samples: Optional[List[DataSample]] = None,
            mode: str = 'tensor') -> Union[Dict[str, Tensor], list, Tensor]:
        """Dispatch to :meth:`loss`, :meth:`predict` or
        :meth:`predict_logits`.

        Args:
            inputs (Tensor): Pre-processed images, ``B x 3 x H x W``.
            data_samples (list[DataSample], optional): Samples (with
                ``gt_label`` for ``'loss'``). Defaults to None.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.
                Defaults to ``'tensor'``.

        Returns:
            dict | list | Tensor: Losses, predictions, or the unmasked
            inference logits.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.predict_logits(inputs)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           f'predict and tensor mode')

    @staticmethod
    def _gt_labels(data_samples: Optional[List[DataSample]],
                   device: torch.device) -> Tensor:
        if not data_samples:
            raise ValueError('loss: needs data samples with gt_label')
        labels = []
        for sample in data_samples:
            if 'gt_label' not in sample:
                raise ValueError('loss: a data sample has no gt_label')
            labels.append(torch.as_tensor(sample.gt_label).view(-1))
        return torch.cat(labels).to(device=device, dtype=torch.long)

    def loss(self, inputs: Tensor,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """The training losses on the current task's classes.

        Args:
            inputs (Tensor): Pre-processed images.
            data_samples (list[DataSample]): Samples with ``gt_label`` in
                the current task's classes.

        Returns:
            dict[str, Tensor]: ``loss_ce``, ``loss_prompt`` and, when
            distilling, the mode's terms (``loss_kd``).
        """
        gt_label = self._gt_labels(data_samples, inputs.device)
        start, end = self.task_classes
        outside = (gt_label < start) | (gt_label >= end)
        if outside.any():
            raise ValueError(
                f'loss: label {int(gt_label[outside][0])} is outside the '
                f'current task classes [{start}, {end}) (call begin_task '
                f'with the task\'s classes)')
        if self.distill is not None and self.distill.needs_teacher and \
                self.teacher is None:
            raise RuntimeError(
                f'loss: distill={type(self.distill).__name__} needs a '
                f'teacher; call attach_teacher() (or use a '
                f'ContinualDistiller with a teacher)')
        student_layers = () if self.distill is None else \
            self.distill.student_layers
        cls_logits, token_logits, prompt_loss, student_feats, grid = \
            self.forward_outputs(inputs, train=True,
                                 feature_layers=student_layers)
        terms = DistillInputs(
            cls_logits,
            gt_label,
            self.task_classes,
            token_logits=token_logits,
            student_feats=student_feats or None,
            patch_resolution=grid)
        if self.distill is None:
            losses = dict(loss_ce=terms.ce(cls_logits))
        elif not student_layers and not self.distill.teacher_layers:
            if self.distill.needs_teacher:
                terms.teacher_logits = self.teacher.teacher_logits(inputs)
            losses = self.distill.loss(terms)
        else:
            # feature modes: the layer outputs of both ViTs
            terms.teacher_logits, terms.teacher_feats, teacher_grid = \
                self.teacher.teacher_outputs(inputs,
                                             self.distill.teacher_layers)
            if teacher_grid != grid:
                raise ValueError(
                    f'loss: the teacher\'s patch grid {teacher_grid} '
                    f'differs from the student\'s {grid}; '
                    f'{type(self.distill).__name__} needs the same '
                    f'img_size / patch_size in both ViTs')
            losses = self.distill.loss(terms)
        losses['loss_prompt'] = prompt_loss
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Predict with the unseen classes masked.

        Args:
            inputs (Tensor): Pre-processed images.
            data_samples (list[DataSample], optional): Samples to fill (new
                ones if None). Defaults to None.

        Returns:
            list[DataSample]: With ``pred_score`` (softmax over the masked
            logits: 0 for unseen classes) and ``pred_label``.
        """
        logits = self.mask_unseen(self.predict_logits(inputs))
        scores = F.softmax(logits, dim=1)
        labels = scores.argmax(dim=1)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(inputs.shape[0])]
        for sample, score, label in zip(data_samples, scores, labels):
            sample.set_pred_score(score).set_pred_label(label)
        return data_samples
