"""Masked L1 loss for depth regression (docs/en/methods/had.md, section 2)."""
import torch
from torch import Tensor

from had_mm.registry import MODELS
from .base_task_loss import BaseTaskLoss
from .distill_utils import masked_mean


@MODELS.register_module()
class MaskedL1Loss(BaseTaskLoss):
    """``sum_valid |d - d*| / #valid`` over the whole batch.

    A pixel is valid where the ground truth is finite and positive (0 marks
    a missing depth). A batch without a valid pixel gives 0.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_depth'.
        **kwargs: mmseg loss arguments that describe what it does anyway
            (``use_sigmoid=False``, ``avg_non_ignore=True``,
            ``reduction='mean'``) are accepted; others are refused by
            name, in one line. In a stock mmseg decode head, which gives
            its losses class labels, it is refused when built: use
            ``had_mm.DepthHead`` with that head as its body.
    """

    #: What the loss needs that a stock mmseg decode head does not give,
    #: and where it goes instead.
    needs = 'regresses depth maps (gt_depth_map), not class labels'
    instead = ("had_mm.DepthHead, which takes this decode head as its body "
               "(body=dict(type=...)), in had_mm.HeterogeneousDensePredictor")

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_depth',
                 **kwargs) -> None:
        super().__init__(loss_weight, loss_name, **kwargs)

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Predicted depth, ``B x 1 x H x W``.
            target (Tensor): Ground truth, ``B x 1 x H x W`` (or
                ``B x H x W``); invalid = 0 or non-finite.
            **kwargs: Ignored; ``ignore_index`` with integer labels
                (mmseg decode heads' class labels) is refused.

        Returns:
            Tensor: Weighted scalar loss.
        """
        pred, target = self.float_inputs(pred, target, kwargs)
        target = target.reshape(pred.shape)
        valid = torch.isfinite(target) & (target > 0)
        # Sanitise first: |d - NaN| would put NaN in the backward pass.
        target = torch.where(valid, target, torch.zeros_like(target))
        loss = masked_mean((pred - target).abs(), valid)
        return self.loss_weight * loss
