"""Cosine loss for surface normals (docs/methods/had.md, section 2)."""
import torch
import torch.nn as nn
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import unit_cosine
from .distill_utils import masked_mean, upcast_half


@MODELS.register_module()
class CosineNormalLoss(nn.Module):
    """``1 - mean_valid <n, n*>`` with both vectors unit-normalised.

    A pixel is valid where the ground-truth normal is finite and not the
    zero vector. Written as ``mean_valid (1 - <n, n*>)`` so that a batch
    without a valid pixel gives 0, not 1.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_normal'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_normal') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Predicted normal, ``B x 3 x H x W`` (normalised
                here, so raw outputs work too).
            target (Tensor): Ground truth, ``B x 3 x H x W``; invalid =
                zero vector or non-finite.
            **kwargs: Ignored (e.g. ``ignore_index`` passed by mmseg
                decode heads).

        Returns:
            Tensor: Weighted scalar loss.
        """
        pred = upcast_half(pred)
        target = target.detach().to(pred.dtype)
        valid = (
            torch.isfinite(target).all(dim=1)
            & (target.abs().sum(dim=1) > 0))
        target = torch.where(
            valid.unsqueeze(1), target, torch.zeros_like(target))
        cos = unit_cosine(pred, target)
        loss = masked_mean(1 - cos, valid)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated).
        """
        return self._loss_name
