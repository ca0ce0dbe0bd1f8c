"""What every per-task self-distillation term shares."""
from typing import Optional

import torch.nn as nn
from torch import Tensor

from .distill_utils import (check_task, pixel_distill_loss_map,
                            teacher_pseudo_label)


class BaseDistillLoss(nn.Module):
    """One old task's distillation term: the teacher's pseudo-label and the
    task's per-pixel distillation map come from the task table; a subclass
    only says how the map is reduced (:meth:`loss_from_map`).

    Args:
        task (str): A registered task type, e.g. ``'semantic'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, task: str, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.task = check_task(task)
        self.loss_weight = loss_weight

    def loss_from_map(self,
                      loss_map: Tensor,
                      valid: Tensor,
                      student_out: Optional[Tensor] = None,
                      pseudo: Optional[Tensor] = None) -> Tensor:
        """Unweighted loss from a precomputed per-pixel loss map.

        Args:
            loss_map (Tensor): ``B x H x W`` per-pixel loss (0 where
                invalid).
            valid (Tensor): ``B x H x W`` bool mask of valid pixels.
            student_out (Tensor, optional): Raw student head output, for
                reductions that group pixels by the prediction.
            pseudo (Tensor, optional): The teacher's pseudo-label.

        Returns:
            Tensor: Scalar loss (``loss_weight`` not applied).
        """
        raise NotImplementedError

    def forward(self, student_out: Tensor, teacher_out: Tensor,
                **kwargs) -> Tensor:
        """Forward function.

        Args:
            student_out (Tensor): Raw student head output.
            teacher_out (Tensor): Raw teacher head output (detached here).
            **kwargs: Ignored.

        Returns:
            Tensor: Weighted scalar loss.
        """
        pseudo = teacher_pseudo_label(self.task, teacher_out)
        loss_map, valid = pixel_distill_loss_map(self.task, student_out,
                                                 pseudo)
        return self.loss_weight * self.loss_from_map(loss_map, valid,
                                                     student_out, pseudo)
