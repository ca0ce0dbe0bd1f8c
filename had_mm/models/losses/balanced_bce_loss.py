"""Class-balanced binary cross-entropy for saliency.

See docs/methods/had.md, section 2.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from .distill_utils import upcast_half


@MODELS.register_module()
class BalancedBCELoss(nn.Module):
    """Class-balanced BCE on logits, over the valid pixels of the batch.

    With ``P`` / ``N`` the numbers of valid positive / negative pixels and
    ``V = P + N``::

        loss = (N / V * sum_pos bce + P / V * sum_neg bce) / V

    i.e. positives are weighted by the fraction of negatives and vice
    versa (the balanced cross-entropy of the multi-task dense-prediction
    references), averaged over the valid pixels. A pixel is valid where the
    target is finite and not ``ignore_index``; targets ``>= 0.5`` are
    positive. A batch without a valid pixel gives 0; a batch of one class
    only gets weight 0 (as in the reference).

    Args:
        ignore_index (int): Label value to ignore. Defaults to 255.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_saliency'.
    """

    def __init__(self,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_saliency') -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Saliency logits, ``B x 1 x H x W``.
            target (Tensor): Ground truth in {0, 1}, ``B x 1 x H x W`` (or
                ``B x H x W``), float or long; ``ignore_index`` = ignore;
                values ``>= 0.5`` count as positive.
            **kwargs: Ignored (mmseg decode heads pass ``ignore_index``;
                the constructor's value is used).

        Returns:
            Tensor: Weighted scalar loss.
        """
        bce, pos, neg = self.pixel_bce(pred, target)
        return self.loss_weight * self.reduce(bce, pos, neg)

    def pixel_bce(self, pred: Tensor,
                  target: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Per-pixel BCE and the masks of the valid positive / negative
        pixels (the BCE is 0 elsewhere).

        Args:
            pred (Tensor): Logits, ``B x 1 x H x W``.
            target (Tensor): Labels, as in :meth:`forward`.

        Returns:
            tuple[Tensor, Tensor, Tensor]: BCE map, positive mask, negative
            mask, all of ``pred``'s shape.
        """
        pred = upcast_half(pred)
        target = target.detach().reshape(pred.shape)
        valid = torch.isfinite(target) & (target != self.ignore_index)
        # Threshold like the reference, so that resized (soft) masks work.
        pos = valid & (target >= 0.5)
        neg = valid & (target < 0.5)
        bce = F.binary_cross_entropy_with_logits(
            pred, pos.to(pred.dtype), reduction='none')
        return torch.where(valid, bce, torch.zeros_like(bce)), pos, neg

    def reduce(self, bce: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
        """The balanced mean of the per-pixel BCE (unweighted)."""
        num_pos = pos.sum().to(bce.dtype)
        num_neg = neg.sum().to(bce.dtype)
        num_valid = (num_pos + num_neg).clamp(min=1)
        # Weights are counts, not functions of pred: no gradient needed.
        loss_pos = (bce * pos).sum() * (num_neg / num_valid)
        loss_neg = (bce * neg).sum() * (num_pos / num_valid)
        return (loss_pos + loss_neg) / num_valid

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated).
        """
        return self._loss_name
