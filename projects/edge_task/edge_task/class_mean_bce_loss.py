import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks import upcast_half


@MODELS.register_module()
class ClassMeanBCELoss(nn.Module):
    """Balanced BCE on logits: the mean of the two class-mean BCEs.

    With ``bce_pos`` / ``bce_neg`` the mean BCE over the valid edge /
    non-edge pixels of the batch::

        loss = (bce_pos + bce_neg) / 2

    so the few edge pixels weigh as much as the many others. A batch with
    one class only gets that class's mean; one without a valid pixel gives
    0. (had_mm's ``BalancedBCELoss`` weights the sums by the class
    fractions instead, which gives the same ranking but a scale that
    follows the edge density.) A pixel is valid where the target is finite
    and not ``ignore_index``; targets ``>= 0.5`` are edges.

    Args:
        ignore_index (int): Label value to ignore. Defaults to 255.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_edge'.
    """

    def __init__(self,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_edge') -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Edge logits, ``B x 1 x H x W``.
            target (Tensor): Labels in {0, 1}, same number of elements;
                ``ignore_index`` = ignore.
            **kwargs: Ignored.

        Returns:
            Tensor: Weighted scalar loss.
        """
        pred = upcast_half(pred)
        target = target.detach().reshape(pred.shape)
        valid = torch.isfinite(target) & (target != self.ignore_index)
        pos = valid & (target >= 0.5)
        neg = valid & (target < 0.5)
        bce = F.binary_cross_entropy_with_logits(
            pred, pos.to(pred.dtype), reduction='none')
        parts = []
        for mask in (pos, neg):
            count = mask.sum()
            total = torch.where(mask, bce, torch.zeros_like(bce)).sum()
            parts.append((total / count.clamp(min=1), count > 0))
        present = torch.stack([p[1] for p in parts]).to(pred.dtype)
        means = torch.stack([p[0] for p in parts])
        # average over the classes present (0 when none is)
        loss = (means * present).sum() / present.sum().clamp(min=1)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated).
        """
        return self._loss_name
