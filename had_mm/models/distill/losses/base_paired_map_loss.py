"""The frame of the cross-architecture distillation losses: a temperature,
and a sum over paired student / teacher maps."""
from typing import Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from had_mm.models.losses.mmseg_compat import refuse_in_decode_head
from .utils import as_list


class BasePairedMapLoss(nn.Module):
    """``loss_weight * sum_k pair_loss(student_k, teacher_k)`` over paired
    maps (the stages of a distiller, or one logit map).

    Subclasses define :meth:`pair_loss`; the keyword arguments of
    :meth:`forward` (e.g. the labels) reach it unchanged.

    Args:
        tau (float): Temperature, > 0.
        loss_weight (float): Weight of the loss.
        align_corners (bool): ``align_corners`` of the bilinear resizes.
        loss_name (str): Name of the loss item.
    """

    def __init__(self, tau: float, loss_weight: float, align_corners: bool,
                 loss_name: str) -> None:
        super().__init__()
        refuse_in_decode_head(self,
                              "compares a student's logits with a teacher's",
                              'distill_losses of had_mm.HeteroAKDDistiller')
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight
        self.align_corners = align_corners
        self._loss_name = loss_name

    def pair_loss(self, student: Tensor, teacher: Tensor, **kwargs) -> Tensor:
        """The unweighted loss of one (student, teacher) pair.

        Args:
            student (Tensor): ``B x C x H x W`` student map.
            teacher (Tensor): The teacher's map (any resolution).
            **kwargs: What :meth:`forward` was given.

        Returns:
            Tensor: Scalar.
        """
        raise NotImplementedError

    def forward(self, student_logits: Union[Tensor, Sequence[Tensor]],
                teacher_logits: Union[Tensor,
                                      Sequence[Tensor]], **kwargs) -> Tensor:
        """Sum of the pair losses, times ``loss_weight``.

        Args:
            student_logits (Tensor | list[Tensor]): One map or one per
                stage.
            teacher_logits (Tensor | list[Tensor]): The teacher's, paired
                in order.
            **kwargs: Passed to :meth:`pair_loss`.

        Returns:
            Tensor: Scalar loss.
        """
        students, teachers = as_list(student_logits), as_list(teacher_logits)
        if len(students) != len(teachers) or not students:
            raise ValueError(f'{type(self).__name__} pairs student and '
                             f'teacher maps: got {len(students)} student '
                             f'and {len(teachers)} teacher maps.')
        total = torch.zeros((), device=students[0].device)
        for student, teacher in zip(students, teachers):
            total = total + self.pair_loss(student, teacher, **kwargs)
        return self.loss_weight * total

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item."""
        return self._loss_name
