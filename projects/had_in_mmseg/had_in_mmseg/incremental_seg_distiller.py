from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmseg.models.utils import resize
from mmseg.utils import add_prefix
from torch import Tensor

from had_mm.models.distill import FrozenTeacherMixin
from had_mm.registry import MODELS


@MODELS.register_module()
class IncrementalSegDistiller(FrozenTeacherMixin, BaseModel):
    """A stock mmseg segmentor that can distil old classes from a teacher.

    The segmentor (any ``EncoderDecoder`` config, unchanged) is built as
    ``self.segmentor``, so the checkpoint's ``segmentor.*`` weights are the
    stock model's weights. Without a teacher, :meth:`loss` is the
    segmentor's own ``loss()``. After ``attach_teacher(teacher, loss=...,
    weight=..., old_classes=...)`` it adds

    ``loss_distill = weight * distill(student[:, old], teacher[:, old])``

    where ``student`` / ``teacher`` are the decode-head logits (upsampled to
    the input size) and ``old`` are the old classes' channels: a frozen
    teacher's knowledge of the old classes survives although their labels
    are gone (set to ignore). The student's features are computed once and
    shared by both terms. The teacher is held by
    :class:`~had_mm.models.distill.FrozenTeacherMixin`: out of this
    module's children (no state dict, optimizer or DDP entry), in eval mode
    without grads, moved by ``.to()`` with this model.

    :meth:`predict` and ``mode='tensor'`` are the segmentor's.

    Args:
        segmentor (dict): Config of a stock mmseg ``EncoderDecoder`` (its
            ``data_preprocessor`` becomes this model's).
        data_preprocessor (dict, optional): Used as the segmentor's data
            pre-processor when its config has none (the runner passes a
            config's top-level ``data_preprocessor`` here). Defaults to
            None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 segmentor: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        segmentor = dict(segmentor)
        if data_preprocessor is not None:
            segmentor.setdefault('data_preprocessor', data_preprocessor)
        segmentor = MODELS.build(segmentor)
        super().__init__(
            data_preprocessor=segmentor.data_preprocessor, init_cfg=init_cfg)
        self.segmentor = segmentor
        # set by attach_teacher: (loss, weight, old classes)
        self._distill: Optional[Tuple[nn.Module, float, List[int]]] = None

    # ------------------------------------------------------ distillation
    def _on_attach_teacher(self,
                           teacher: nn.Module,
                           loss: Optional[nn.Module] = None,
                           weight: float = 1.0,
                           old_classes: Sequence[int] = ()):
        """Distil ``old_classes`` from ``teacher`` (the arguments of
        :meth:`attach_teacher`).

        Args:
            teacher (IncrementalSegDistiller): The teacher (e.g. a deep copy
                of this model at the end of the last phase).
            loss (nn.Module): Distillation loss called as
                ``loss(student_logits, teacher_logits)`` on ``B x K x H x
                W`` logits of the ``K`` old classes (e.g.
                ``HADLoss(task='semantic')``).
            weight (float): lambda of the total loss. Defaults to 1.0.
            old_classes (Sequence[int]): Channels of the old classes.
        """
        if loss is None:
            raise ValueError('attach_teacher needs the distillation loss')
        if not old_classes:
            raise ValueError('attach_teacher needs the old classes')
        if not isinstance(getattr(teacher, 'segmentor', None), nn.Module):
            raise TypeError(f'the teacher must have a segmentor (an '
                            f'IncrementalSegDistiller), got '
                            f'{type(teacher).__name__}')
        if isinstance(teacher, IncrementalSegDistiller):
            # a copy of this model at the last phase end distils nothing
            teacher.detach_teacher()
        self._distill = (loss, float(weight), [int(c) for c in old_classes])

    def _on_detach_teacher(self) -> None:
        """Drop the loss, weight and old classes."""
        self._distill = None

    # ----------------------------------------------------------- forward
    def forward(
            self,
            inputs: Tensor,
            data_samples: Optional[list] = None,
            mode: str = 'tensor') -> Union[Dict[str, Tensor], list, Tensor]:
        """Dispatch to :meth:`loss`, :meth:`predict` or the segmentor.

        Args:
            inputs (Tensor): Pre-processed images, ``B x 3 x H x W``.
            data_samples (list[SegDataSample], optional): Data samples.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.

        Returns:
            dict | list | Tensor: Losses, predictions or raw logits.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.segmentor(inputs, data_samples, mode='tensor')
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')

    def loss(self, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
        """The segmentor's losses, plus ``loss_distill`` with a teacher.

        Args:
            inputs (Tensor): Pre-processed images.
            data_samples (list[SegDataSample]): Samples with
                ``gt_sem_seg`` (the current phase's classes only).

        Returns:
            dict[str, Tensor]: The loss components.
        """
        seg = self.segmentor
        teacher = self.teacher
        if teacher is None:
            return seg.loss(inputs, data_samples)
        distill, weight, old = self._distill
        # EncoderDecoder.loss, keeping the decode head's logits
        x = seg.extract_feat(inputs)
        logits = seg.decode_head.forward(x)
        losses = add_prefix(
            seg.decode_head.loss_by_feat(logits, data_samples), 'decode')
        if seg.with_auxiliary_head:
            losses.update(seg._auxiliary_head_forward_train(x, data_samples))
        with torch.no_grad():
            t_seg = teacher.segmentor
            t_logits = t_seg.decode_head.forward(t_seg.extract_feat(inputs))
        size = inputs.shape[2:]
        student = self._resize(logits, size)[:, old]
        target = self._resize(t_logits, size)[:, old]
        losses['loss_distill'] = weight * distill(student, target)
        return losses

    def _resize(self, logits: Tensor, size) -> Tensor:
        if logits.shape[2:] == size:
            return logits
        return resize(
            logits,
            size=size,
            mode='bilinear',
            align_corners=self.segmentor.align_corners)

    def predict(self, inputs: Tensor, data_samples: Optional[list] = None):
        """The segmentor's prediction.

        Args:
            inputs (Tensor): Pre-processed images.
            data_samples (list[SegDataSample], optional): Data samples.

        Returns:
            list[SegDataSample]: Samples with ``pred_sem_seg`` and
            ``seg_logits``.
        """
        return self.segmentor.predict(inputs, data_samples)


def segmentor_state_dict(state_dict: Dict[str, Tensor],
                         prefix: str = 'segmentor.') -> Dict[str, Tensor]:
    """The stock segmentor's weights in an IncrementalSegDistiller state dict.

    Args:
        state_dict (dict[str, Tensor]): A checkpoint's ``state_dict``.
        prefix (str): The segmentor's prefix. Defaults to ``'segmentor.'``.

    Returns:
        dict[str, Tensor]: The weights with ``prefix`` removed (others
        dropped), loadable strictly into the plain segmentor config.
    """
    return {
        k[len(prefix):]: v
        for k, v in state_dict.items() if k.startswith(prefix)
    }
