"""The HAD authors' released reductions: ``HADLoss(preset='reference')``.

Plain functions (not registered), one per task type, each returning the
``(L_DB, L_SG)`` pair of one old task exactly as the authors' code reduces
them (see ``docs/en/methods/had_presets.md`` for the differences from the
default preset and why each matters). The one reference behaviour not
reproduced is the depth SG broadcast that mixes the images of a batch:
masks stay per image, so at batch 1 these equal the released code.

The depth and normal functions share one signature: ``student_out`` and
``teacher_out`` (``B x C x H x W`` task outputs of one old task, ``C`` its
channels), ``mask_fn`` (the salience mask of a ``B x H x W`` loss map) and
``tau`` (the group threshold); they return ``(L_DB, L_SG)``.
"""
from typing import Callable, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from had_mm.tasks.unit_vectors import unit_normalize
from .distill_utils import upcast_half

# The salience mask M of a B x H x W loss map (SGHADLoss.salience_mask).
MaskFn = Callable[[Tensor], Tensor]
# The class-balanced DB term of a semantic loss map (DBHADLoss).
ClassBalancedFn = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]


def _group_mean(values: Tensor, group: Tensor, empty: float) -> Tensor:
    """Mean of ``values`` over ``group``; ``empty`` if the group is empty."""
    count = group.sum()
    total = torch.where(group, values, torch.zeros_like(values)).sum()
    return torch.where(count > 0, total / count.clamp(min=1),
                       total.new_tensor(empty))


def _nonzero_mean(total: Tensor, count: Tensor) -> Tensor:
    """``total / count``, 0 where nothing was counted (the released code
    would divide by zero)."""
    return torch.where(count > 0, total / count.clamp(min=1),
                       torch.zeros_like(total))


def reference_semantic(
        student_out: Tensor, teacher_out: Tensor, mask_fn: MaskFn,
        class_balanced: ClassBalancedFn) -> Tuple[Tensor, Tensor]:
    """Semantic: NLL against the teacher argmax; ``L_SG`` is a mean over
    all ``B*H*W`` pixels, ``L_DB`` the class-balanced term of the default.

    Args:
        student_out (Tensor): ``B x C x H x W`` student logits.
        teacher_out (Tensor): ``B x C x H x W`` teacher logits.
        mask_fn (callable): Salience mask of a ``B x H x W`` loss map.
        class_balanced (callable): DB term ``(loss_map, valid, student,
            pseudo) -> Tensor``.

    Returns:
        tuple[Tensor, Tensor]: ``(L_DB, L_SG)``.
    """
    logits = upcast_half(student_out)
    pseudo = teacher_out.detach().argmax(dim=1)
    loss_map = F.nll_loss(
        F.log_softmax(logits, dim=1), pseudo, reduction='none')
    valid = torch.ones_like(pseudo, dtype=torch.bool)
    mask = mask_fn(loss_map)
    sg = torch.where(mask, loss_map,
                     torch.zeros_like(loss_map)).sum() / loss_map.numel()
    db = class_balanced(loss_map, valid, logits, pseudo)
    return db, sg


def reference_depth(student_out: Tensor, teacher_out: Tensor, mask_fn: MaskFn,
                    tau: float) -> Tuple[Tensor, Tensor]:
    """Depth: ``e = |d_s - d^| * [d^ != 0]``; ``L_SG`` the mean of the
    masked non-zero errors; ``L_DB`` the sum of the two group means split
    at ``tau`` on the student depth, invalid pixels counting as 0.
    Arguments and returns: see the module docstring (``C = 1``).
    """
    pred = upcast_half(student_out)[:, 0]
    target = teacher_out.detach()[:, 0].to(pred.dtype)
    valid = (target != 0) & torch.isfinite(target)
    target = torch.where(valid, target, torch.zeros_like(target))
    err = torch.where(valid, (pred - target).abs(), torch.zeros_like(pred))
    masked = torch.where(mask_fn(err), err, torch.zeros_like(err))
    sg = _nonzero_mean(masked.sum(), (masked != 0).sum())
    group_src = pred.detach()
    db = (
        _group_mean(err, group_src > tau, 0.) +
        _group_mean(err, group_src < tau, 0.))
    return db, sg


def reference_normal(student_out: Tensor, teacher_out: Tensor, mask_fn: MaskFn,
                     tau: float) -> Tuple[Tensor, Tensor]:
    """Normal: ``P = n_s * n^ * v`` per channel and ``l = 1 -
    mean_channels(P)``; ``L_SG = 1 - sum(P) / #nonzero(P * M)`` (sum over
    all pixels, count over the masked ones); ``L_DB`` sums ``1 -
    mean_group(mean_channels(P))`` over the two groups split at ``tau`` on
    the channel mean of ``n_s``, an empty group giving 1. Arguments and
    returns: see the module docstring (``C = 3``); ``L_SG`` is 0 when the
    mask selects nothing (the released code would divide by zero).
    """
    pred = unit_normalize(upcast_half(student_out))
    target = teacher_out.detach().to(pred.dtype)
    valid = torch.isfinite(target).all(dim=1, keepdim=True)
    target = unit_normalize(
        torch.where(valid, target, torch.zeros_like(target)))
    prod = pred * target * valid.to(pred.dtype)
    pix = prod.mean(dim=1)
    mask = mask_fn(1 - pix).unsqueeze(1)
    count = (torch.where(mask, prod, torch.zeros_like(prod)) != 0).sum()
    sg = torch.where(count > 0, 1 - prod.sum() / count.clamp(min=1),
                     torch.zeros_like(pix).sum())
    group_src = pred.detach().mean(dim=1)
    # an empty group's mean is 0, so it gives 1, as in the released code
    db = sum(1 - _group_mean(pix, g, 0.)
             for g in (group_src > tau, group_src < tau))
    return db, sg


def reference_saliency(student_out: Tensor, teacher_out: Tensor) -> Tensor:
    """Saliency: the balanced BCE of the student logit against
    ``[teacher logit >= 0.5]``, positives weighted by the fraction of
    negatives and vice versa, summed and divided by ``B*H*W``.

    Args:
        student_out (Tensor): ``B x 1 x H x W`` student logits.
        teacher_out (Tensor): ``B x 1 x H x W`` teacher logits.

    Returns:
        Tensor: The scalar loss (no DB / SG split).
    """
    logit = upcast_half(student_out)
    target = (teacher_out.detach() >= 0.5).to(logit.dtype)
    num = target.numel()
    pos = target.sum()
    weight = torch.where(target > 0, (num - pos) / num, pos / num)
    bce = F.binary_cross_entropy_with_logits(logit, target, reduction='none')
    return (weight * bce).sum() / num
