"""Plain (LwF-style) self-distillation loss.

See docs/en/methods/had.md, section 7.
"""
from typing import Optional

from torch import Tensor

from had_mm.registry import MODELS
from .base_distill_loss import BaseDistillLoss
from .distill_utils import masked_mean


@MODELS.register_module()
class PixelDistillLoss(BaseDistillLoss):
    """Masked mean of the per-pixel distillation loss over the batch.

    The student is supervised by the frozen teacher's pseudo-labels on all
    valid pixels, without any grouping or pixel selection: the
    self-distillation baseline of the paper, and what HAD reduces to when
    both DB and SG are off.

    Args:
        task (str): A registered task type, e.g. ``'semantic'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str, optional): Name of the loss item. Defaults to
            'loss_pixel_distill'.
    """

    default_loss_name = 'loss_pixel_distill'

    def loss_from_map(self,
                      loss_map: Tensor,
                      valid: Tensor,
                      student_out: Optional[Tensor] = None,
                      pseudo: Optional[Tensor] = None) -> Tensor:
        """The masked mean of the loss map over the valid pixels (see
        :meth:`BaseDistillLoss.loss_from_map`)."""
        return masked_mean(loss_map, valid)
