"""Channel-wise distillation (Shu et al., ICCV 2021), a baseline."""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.models.losses import upcast_half
from had_mm.registry import MODELS
from ...utils import resize_map
from .utils import as_list


@MODELS.register_module()
class ChannelWiseDivergenceLoss(nn.Module):
    """CWD: KL between per-channel spatial distributions.

    Every channel ``c`` of an ``N x C x H x W`` map is turned into a
    distribution over its ``H * W`` positions, ``softmax(x_c / tau)``;
    the loss is ``tau^2 / (N * C) * sum_{n,c} KL(P_t,nc || P_s,nc)``
    (the normalisation of the paper and of MMRazor's
    ``ChannelWiseDivergence``). Teacher maps of another resolution are
    resized (bilinear) to the student's first.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        align_corners (bool): ``align_corners`` of the resize. Defaults to
            False.
        loss_name (str): Name of the loss item. Defaults to 'loss_cwd'.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 align_corners: bool = False,
                 loss_name: str = 'loss_cwd') -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight
        self.align_corners = align_corners
        self._loss_name = loss_name

    def _single(self, student: Tensor, teacher: Tensor) -> Tensor:
        if student.shape[:2] != teacher.shape[:2]:
            raise ValueError(f'student {tuple(student.shape)} and teacher '
                             f'{tuple(teacher.shape)} maps differ in batch '
                             f'or channel count.')
        teacher = resize_map(teacher.detach(), student.shape[-2:], 'bilinear',
                             self.align_corners)
        n, c = student.shape[:2]
        s = upcast_half(student).reshape(n * c, -1) / self.tau
        t = upcast_half(teacher).reshape(n * c, -1) / self.tau
        log_p_t = F.log_softmax(t, dim=1)
        log_p_s = F.log_softmax(s, dim=1)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum()
        return self.tau**2 * kl / (n * c)

    def forward(self, student_logits: Union[Tensor, Sequence[Tensor]],
                teacher_logits: Union[Tensor,
                                      Sequence[Tensor]], **kwargs) -> Tensor:
        """Forward function.

        Args:
            student_logits (Tensor | list[Tensor]): ``N x C x H x W`` maps
                (logits or features).
            teacher_logits (Tensor | list[Tensor]): The teacher's maps.
            **kwargs: Ignored.

        Returns:
            Tensor: Weighted scalar loss.
        """
        students, teachers = as_list(student_logits), as_list(teacher_logits)
        if len(students) != len(teachers):
            raise ValueError(f'{len(students)} student vs {len(teachers)} '
                             f'teacher maps')
        total = torch.zeros((), device=students[0].device)
        for student, teacher in zip(students, teachers):
            total = total + self._single(student, teacher)
        return self.loss_weight * total

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item."""
        return self._loss_name
