import torch
from torch import Tensor

from had_mm.models.losses import BalancedBCELoss
from had_mm.registry import MODELS


@MODELS.register_module()
class ClassMeanBCELoss(BalancedBCELoss):
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
        super().__init__(ignore_index, loss_weight, loss_name)

    def reduce(self, bce: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
        """Mean of the class-mean BCEs of the classes present (0 when the
        batch has no valid pixel)."""
        parts = []
        for mask in (pos, neg):
            count = mask.sum()
            total = torch.where(mask, bce, torch.zeros_like(bce)).sum()
            parts.append(total / count.clamp(min=1))
        present = torch.stack([pos.any(), neg.any()]).to(bce.dtype)
        means = torch.stack(parts)
        return (means * present).sum() / present.sum().clamp(min=1)
