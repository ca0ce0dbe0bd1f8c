"""Plain (LwF-style) self-distillation loss.

See docs/methods/had.md, section 7.
"""
import torch.nn as nn
from torch import Tensor

from had_mm.registry import MODELS
from .distill_utils import (check_task, masked_mean, pixel_distill_loss_map,
                            teacher_pseudo_label)


@MODELS.register_module()
class PixelDistillLoss(nn.Module):
    """Masked mean of the per-pixel distillation loss over the batch.

    The student is supervised by the frozen teacher's pseudo-labels on all
    valid pixels, without any grouping or pixel selection: the
    self-distillation baseline of the paper, and what HAD reduces to when
    both DB and SG are off.

    Args:
        task (str): A registered task type, e.g. ``'semantic'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_distill'.
    """

    def __init__(self,
                 task: str,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_distill') -> None:
        super().__init__()
        self.task = check_task(task)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def loss_from_map(self, loss_map: Tensor, valid: Tensor) -> Tensor:
        """Unweighted loss from a precomputed loss map.

        Args:
            loss_map (Tensor): ``B x H x W`` per-pixel loss.
            valid (Tensor): ``B x H x W`` bool mask of valid pixels.

        Returns:
            Tensor: Scalar loss (``loss_weight`` not applied).
        """
        return masked_mean(loss_map, valid)

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
        return self.loss_weight * self.loss_from_map(loss_map, valid)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated).
        """
        return self._loss_name
