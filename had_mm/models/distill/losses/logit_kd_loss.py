"""Plain pixel-wise logit KD (Hinton et al.), a distillation baseline."""
from typing import Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from had_mm.registry import MODELS
from ...utils import resize_map
from .utils import as_list, kl_div_map


@MODELS.register_module()
class LogitKDLoss(nn.Module):
    """``tau^2 * mean_p KL(softmax(z_t / tau) || softmax(z_s / tau))``.

    Teacher logits of another resolution are resized (bilinear) to the
    student's first. A list of logit maps gives the sum over its pairs.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        align_corners (bool): ``align_corners`` of the resize. Defaults to
            False.
        loss_name (str): Name of the loss item. Defaults to 'loss_kd'.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 align_corners: bool = False,
                 loss_name: str = 'loss_kd') -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight
        self.align_corners = align_corners
        self._loss_name = loss_name

    def forward(self, student_logits: Union[Tensor, Sequence[Tensor]],
                teacher_logits: Union[Tensor,
                                      Sequence[Tensor]], **kwargs) -> Tensor:
        """Forward function.

        Args:
            student_logits (Tensor | list[Tensor]): ``B x C x H x W``.
            teacher_logits (Tensor | list[Tensor]): ``B x C x H' x W'``
                (detached here).
            **kwargs: Ignored.

        Returns:
            Tensor: Weighted scalar loss.
        """
        students, teachers = as_list(student_logits), as_list(teacher_logits)
        if len(students) != len(teachers):
            raise ValueError(f'{len(students)} student vs {len(teachers)} '
                             f'teacher logit maps')
        total = torch.zeros((), device=students[0].device)
        for student, teacher in zip(students, teachers):
            teacher = resize_map(teacher.detach(), student.shape[-2:],
                                 'bilinear', self.align_corners)
            total = total + kl_div_map(teacher, student, self.tau).mean()
        return self.loss_weight * self.tau**2 * total

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item."""
        return self._loss_name
