"""Salience-guided heterogeneity-aware distillation (SG-HAD)."""
from typing import Optional, Sequence

import torch
from torch import Tensor

from had_mm.registry import MODELS
from .base_distill_loss import BaseDistillLoss
from .distill_utils import masked_mean, sobel_magnitude, upcast_half

SG_MODES = ('greater', 'less', 'band')


@MODELS.register_module()
class SGHADLoss(BaseDistillLoss):
    """SG-HAD loss (docs/en/methods/had.md, section 6).

    Focuses the distillation where the student-teacher discrepancy changes
    sharply. On the detached per-pixel loss map ``l`` (``B x H x W``):

    1. ``E`` = Sobel magnitude (zero padding 1);
    2. ``E~ = (E - min E) / (max E - min E)`` per image; an image with
       ``max E == min E`` (e.g. a constant loss map) gets ``E~ = 0``;
    3. mask ``M``: ``E~ > threshold`` ('greater', default), ``E~ <
       threshold`` ('less') or ``low <= E~ <= high`` ('band');
    4. ``L_SG = sum(M * l) / #nonzero(M * l)`` over the whole batch, 0
       where the mask is empty.

    Each image's mask applies to its own loss map (the reference's depth
    branch broadcasts ``B x 1 x H x W`` against ``B x H x W`` and mixes
    images; not reproduced). The masked mean is used for every task (the
    reference divides by all pixels for semantic). Invalid pixels (``l``
    set to 0) never count. Gradient flows through ``l`` only; the mask is
    a constant.

    Args:
        task (str): A registered task type, e.g. ``'semantic'``.
        threshold (float): ``s`` of the 'greater' / 'less' modes.
            Defaults to 0.9.
        mode (str): 'greater', 'less' or 'band'. Defaults to 'greater'.
        band (Sequence[float], optional): ``(low, high)`` of the 'band'
            mode (inclusive). Defaults to None.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str, optional): Name of the loss item. Defaults to
            'loss_sg_had'.
        **kwargs: mmseg loss arguments are refused by name.
    """

    default_loss_name = 'loss_sg_had'

    def __init__(self,
                 task: str,
                 threshold: float = 0.9,
                 mode: str = 'greater',
                 band: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 loss_name: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(task, loss_weight, loss_name, **kwargs)
        if mode not in SG_MODES:
            raise ValueError(f'SGHADLoss: unknown mode {mode!r}; valid '
                             f'choices are {", ".join(map(repr, SG_MODES))}.')
        if mode == 'band':
            if band is None or len(band) != 2 or band[0] > band[1]:
                raise ValueError("SGHADLoss: mode='band' needs band=(low, "
                                 f'high) with low <= high, got {band}.')
            band = (float(band[0]), float(band[1]))
        self.threshold = threshold
        self.mode = mode
        self.band = band

    @torch.no_grad()
    def salience_mask(self, loss_map: Tensor) -> Tensor:
        """Per-image Sobel salience mask ``M`` of a loss map.

        Args:
            loss_map (Tensor): ``B x H x W`` per-pixel loss.

        Returns:
            Tensor: ``B x H x W`` bool mask.
        """
        edge = sobel_magnitude(upcast_half(loss_map.detach()))
        # Per-image statistics, shaped B x 1 x 1 to stay per image.
        low = edge.amin(dim=(1, 2), keepdim=True)
        span = edge.amax(dim=(1, 2), keepdim=True) - low
        # max == min: divide by 1 instead, which gives E~ = 0.
        span = torch.where(span > 0, span, torch.ones_like(span))
        norm = (edge - low) / span
        if self.mode == 'greater':
            return norm > self.threshold
        if self.mode == 'less':
            return norm < self.threshold
        return (norm >= self.band[0]) & (norm <= self.band[1])

    def loss_from_map(self,
                      loss_map: Tensor,
                      valid: Tensor,
                      student_out: Optional[Tensor] = None,
                      pseudo: Optional[Tensor] = None) -> Tensor:
        """The masked mean of the loss map over the salient, valid,
        non-zero pixels (see :meth:`BaseDistillLoss.loss_from_map`)."""
        mask = self.salience_mask(loss_map) & valid & (loss_map != 0)
        return masked_mean(loss_map, mask)
