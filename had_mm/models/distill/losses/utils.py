"""Helpers shared by the cross-architecture distillation losses."""
from typing import List, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from had_mm.models.losses import upcast_half


def as_list(x: Union[Tensor, Sequence[Tensor]]) -> List[Tensor]:
    """A tensor becomes a one-element list; a sequence a list."""
    return [x] if isinstance(x, Tensor) else list(x)


def pixel_reliability(logits: Tensor,
                      gt: Tensor,
                      ignore_index: int = 255) -> Tensor:
    """Per-pixel unreliability ``H(z)`` of class logits (lower = better).

    ``H(z)(p)`` is the cross-entropy of ``softmax(z(p))`` against the
    ground-truth label at ``p``; where ``p`` has no label (``ignore_index``
    or any value outside ``[0, C)``) it is the entropy of ``softmax(z(p))``.

    Args:
        logits (Tensor): ``B x C x H x W`` logits.
        gt (Tensor): ``B x H x W`` labels at the same resolution.
        ignore_index (int): Label of unlabelled pixels. Defaults to 255.

    Returns:
        Tensor: ``B x H x W`` values (at least float32).
    """
    logits = upcast_half(logits)
    num_classes = logits.shape[1]
    log_prob = F.log_softmax(logits, dim=1)
    gt = gt.long()
    labelled = (gt != ignore_index) & (gt >= 0) & (gt < num_classes)
    safe = torch.where(labelled, gt, torch.zeros_like(gt))
    cross_entropy = -log_prob.gather(1, safe[:, None])[:, 0]
    entropy = -(log_prob.exp() * log_prob).sum(dim=1)
    return torch.where(labelled, cross_entropy, entropy)


def kl_div_map(target_logits: Tensor, logits: Tensor, tau: float) -> Tensor:
    """``KL(softmax(t / tau) || softmax(s / tau))`` per pixel.

    Args:
        target_logits (Tensor): ``B x C x H x W`` target (``t``).
        logits (Tensor): ``B x C x H x W`` prediction (``s``).
        tau (float): Temperature.

    Returns:
        Tensor: ``B x H x W`` divergence (sum over classes).
    """
    log_p_t = F.log_softmax(upcast_half(target_logits) / tau, dim=1)
    log_p_s = F.log_softmax(upcast_half(logits) / tau, dim=1)
    return (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
