"""Class-balanced binary cross-entropy for saliency.

See docs/en/methods/had.md, section 2.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from .base_task_loss import BaseTaskLoss
from .distill_utils import upcast_half
from .mmseg_compat import building_decode_head


@MODELS.register_module()
class BalancedBCELoss(BaseTaskLoss):
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

    It is also the ``loss_decode`` of a binary stock mmseg decode head
    (``num_classes=2, out_channels=1``; labels 0 / 1, ``ignore_index``
    ignored): the head's ``ignore_index`` is then used. A head with more
    than one output channel refuses it when built, in one line.

    Args:
        ignore_index (int): Label value to ignore (a call's
            ``ignore_index``, as mmseg decode heads pass it, overrides it).
            Defaults to 255.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_saliency'.
        **kwargs: mmseg loss arguments that describe what it does anyway
            (``use_sigmoid=True``, ``avg_non_ignore=True``,
            ``reduction='mean'``) are accepted; others (e.g. the
            ``use_sigmoid=False`` a stock ``loss_decode`` passes on) are
            refused by name, in one line.
    """

    accepted_mmseg_args = dict(
        use_sigmoid=(True, ), avg_non_ignore=(True, ), reduction=('mean', ))
    computes = ('it is a class-balanced sigmoid BCE on one logit, averaged '
                'over the valid pixels')

    def __init__(self,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_saliency',
                 **kwargs) -> None:
        super().__init__(loss_weight, loss_name, **kwargs)
        self.ignore_index = ignore_index

    def check_decode_head(self) -> None:
        """A binary stock decode head may build it; one with more than one
        output channel is refused."""
        head = building_decode_head(self)
        if head is not None and head.out_channels != 1:
            raise ValueError(
                f'{type(self).__name__} takes one logit channel, but '
                f'{type(head).__name__} has out_channels='
                f'{head.out_channels}: for binary segmentation set '
                f'num_classes=2, out_channels=1 (labels 0 / 1) in the '
                f'decode head, or use CrossEntropyLoss.')

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Saliency logits, ``B x 1 x H x W``.
            target (Tensor): Ground truth in {0, 1}, ``B x 1 x H x W`` (or
                ``B x H x W``), float or long; ``ignore_index`` = ignore;
                values ``>= 0.5`` count as positive.
            **kwargs: ``ignore_index`` (as mmseg decode heads pass it)
                overrides the constructor's; ``weight`` must be None (no
                pixel sampler); anything else is ignored.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if kwargs.get('weight') is not None:
            raise ValueError(f'{type(self).__name__} takes no per-pixel '
                             f"weights; drop the decode head's sampler (it "
                             f'weights pixels, the loss balances them).')
        bce, pos, neg = self.pixel_bce(pred, target,
                                       kwargs.get('ignore_index'))
        return self.loss_weight * self.reduce(bce, pos, neg)

    def pixel_bce(self,
                  pred: Tensor,
                  target: Tensor,
                  ignore_index: Optional[int] = None
                  ) -> Tuple[Tensor, Tensor, Tensor]:
        """Per-pixel BCE and the masks of the valid positive / negative
        pixels (the BCE is 0 elsewhere).

        Args:
            pred (Tensor): Logits, ``B x 1 x H x W``.
            target (Tensor): Labels, as in :meth:`forward`.
            ignore_index (int, optional): Overrides the constructor's.

        Returns:
            tuple[Tensor, Tensor, Tensor]: BCE map, positive mask, negative
            mask, all of ``pred``'s shape.
        """
        pred = upcast_half(pred)
        target = target.detach().reshape(pred.shape)
        if ignore_index is None:
            ignore_index = self.ignore_index
        valid = torch.isfinite(target) & (target != ignore_index)
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
