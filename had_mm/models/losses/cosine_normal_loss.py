"""Cosine loss for surface normals (docs/en/methods/had.md, section 2)."""
import torch
from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks.unit_vectors import unit_cosine
from .base_task_loss import BaseTaskLoss
from .distill_utils import masked_mean


@MODELS.register_module()
class CosineNormalLoss(BaseTaskLoss):
    """``1 - mean_valid <n, n*>`` with both vectors unit-normalised.

    A pixel is valid where the ground-truth normal is finite and not the
    zero vector. Written as ``mean_valid (1 - <n, n*>)`` so that a batch
    without a valid pixel gives 0, not 1.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_normal'.
        **kwargs: mmseg loss arguments that describe what it does anyway
            (``use_sigmoid=False``, ``avg_non_ignore=True``,
            ``reduction='mean'``) are accepted; others are refused by
            name, in one line. In a stock mmseg decode head, which gives
            its losses class labels, it is refused when built: use
            ``had_mm.NormalHead`` with that head as its body.
    """

    #: What the loss needs that a stock mmseg decode head does not give,
    #: and where it goes instead.
    needs = 'regresses normal maps (gt_normal), not class labels'
    instead = ("had_mm.NormalHead, which takes this decode head as its body "
               "(body=dict(type=...)), in had_mm.HeterogeneousDensePredictor")

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_normal',
                 **kwargs) -> None:
        super().__init__(loss_weight, loss_name, **kwargs)

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Predicted normal, ``B x 3 x H x W`` (normalised
                here, so raw outputs work too).
            target (Tensor): Ground truth, ``B x 3 x H x W``; invalid =
                zero vector or non-finite.
            **kwargs: Ignored; ``ignore_index`` with integer labels
                (mmseg decode heads' class labels) is refused.

        Returns:
            Tensor: Weighted scalar loss.
        """
        pred, target = self.float_inputs(pred, target, kwargs)
        valid = (
            torch.isfinite(target).all(dim=1)
            & (target.abs().sum(dim=1) > 0))
        target = torch.where(
            valid.unsqueeze(1), target, torch.zeros_like(target))
        cos = unit_cosine(pred, target)
        loss = masked_mean(1 - cos, valid)
        return self.loss_weight * loss
