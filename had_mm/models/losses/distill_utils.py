"""Task-generic helpers shared by the distillation losses.

Plain functions (not registered): pseudo-labels from a frozen teacher
(docs/methods/had.md, section 3), the per-pixel distillation loss map
(section 4), the Sobel magnitude used by SG-HAD (section 6) and a masked
mean.

Shape conventions (raw head outputs):

- semantic: ``B x C x H x W`` logits; pseudo-label ``B x H x W`` long.
- depth: ``B x 1 x H x W`` metres; pseudo-label ``B x 1 x H x W`` float.
- normal: ``B x 3 x H x W``; pseudo-label ``B x 3 x H x W`` unit vectors.
- saliency: ``B x 1 x H x W`` logits; pseudo-label ``B x 1 x H x W`` float
  in {0, 1}.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..utils import unit_cosine, unit_normalize

TASK_TYPES = ('semantic', 'depth', 'normal', 'saliency')

# Pseudo-label value of a pixel whose teacher output is not finite (same
# value as the ground-truth ignore index of semantic / saliency).
PSEUDO_IGNORE_INDEX = 255


def check_task(task: str) -> str:
    """Return ``task`` if it is a known task type, else raise.

    Args:
        task (str): Task type name.

    Returns:
        str: The same task name.

    Raises:
        ValueError: If ``task`` is not one of :data:`TASK_TYPES`.
    """
    if task not in TASK_TYPES:
        raise ValueError(f'Unknown task type {task!r}; valid choices are '
                         f'{", ".join(repr(t) for t in TASK_TYPES)}.')
    return task


def upcast_half(x: Tensor) -> Tensor:
    """Cast a float16 / bfloat16 tensor to float32 (others unchanged).

    Losses sum over millions of pixels, which overflows half precision
    under mixed-precision training.

    Args:
        x (Tensor): Any tensor.

    Returns:
        Tensor: ``x`` in at least float32 precision if it is a half type.
    """
    if x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` over ``mask``; 0 (graph kept) when the mask is empty.

    Args:
        x (Tensor): Values, any shape (may be non-finite outside the
            mask).
        mask (Tensor): Bool tensor with the shape of ``x``.

    Returns:
        Tensor: Scalar mean.
    """
    # torch.where instead of a product: a non-finite x outside the mask
    # must not leak NaN into the value or the gradient.
    total = torch.where(mask, x, torch.zeros_like(x)).sum()
    count = mask.sum().clamp(min=1).to(total.dtype)
    return total / count


def teacher_pseudo_label(task: str, teacher_out: Tensor) -> Tensor:
    """Pseudo-labels from a raw teacher head output (detached).

    Args:
        task (str): One of :data:`TASK_TYPES`.
        teacher_out (Tensor): Raw teacher head output (see module doc).

    Returns:
        Tensor: semantic: ``argmax_c`` as ``B x H x W`` long; depth: the raw
        depth; normal: the unit-normalised normal (a zero vector stays
        zero); saliency: ``sigmoid > 0.5`` as ``B x 1 x H x W`` float.
        Where the teacher output is not finite (semantic: a NaN or +inf
        logit) the pseudo-label is :data:`PSEUDO_IGNORE_INDEX` (semantic,
        saliency) or stays non-finite (depth, normal), so that
        :func:`pixel_distill_loss_map` masks it.
    """
    check_task(task)
    teacher_out = teacher_out.detach()
    if task == 'semantic':
        # max propagates NaN and keeps +inf, so one pass finds both;
        # a -inf logit (an impossible class) leaves the argmax valid.
        top, label = teacher_out.max(dim=1)
        return torch.where(
            torch.isfinite(top), label,
            torch.full_like(label, PSEUDO_IGNORE_INDEX))
    if task == 'depth':
        return teacher_out
    if task == 'normal':
        finite = torch.isfinite(teacher_out).all(dim=1, keepdim=True)
        unit = unit_normalize(teacher_out)
        return torch.where(finite, unit, torch.full_like(unit, float('nan')))
    # saliency: sigmoid(z) > 0.5 <=> z > 0
    label = (teacher_out > 0).to(teacher_out.dtype)
    return torch.where(
        torch.isfinite(teacher_out), label,
        torch.full_like(label, float(PSEUDO_IGNORE_INDEX)))


def _squeeze_channel(x: Tensor) -> Tensor:
    """``B x 1 x H x W`` -> ``B x H x W``; ``B x H x W`` unchanged."""
    return x[:, 0] if x.dim() == 4 else x


def pixel_distill_loss_map(task: str, student_out: Tensor,
                           pseudo: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-pixel distillation loss ``l(p)`` and its valid mask ``m(p)``.

    - semantic: ``-log softmax(z_s)[y^]``.
    - depth: ``|d_s - d^|``.
    - normal: ``1 - <n_s, n^>`` with the TRUE dot product of unit vectors
      (the reference divides it by 3); the student normal is
      unit-normalised too (idempotent for a normalising head).
    - saliency: binary cross-entropy of the student logit against ``s^``.

    A pixel is valid where its pseudo-label is finite (semantic: in
    ``[0, C)``; saliency: not :data:`PSEUDO_IGNORE_INDEX`, values ``>= 0.5``
    positive; normal: also not the zero vector). Invalid pixels get
    ``l = 0`` and no gradient.

    Args:
        task (str): One of :data:`TASK_TYPES`.
        student_out (Tensor): Raw student head output (see module doc).
        pseudo (Tensor): Pseudo-label of :func:`teacher_pseudo_label` (any
            ground truth in the same format works too).

    Returns:
        tuple[Tensor, Tensor]: ``loss_map`` (``B x H x W``, at least
        float32) and
        ``valid`` (``B x H x W`` bool).
    """
    check_task(task)
    student_out = upcast_half(student_out)
    dtype = student_out.dtype
    pseudo = pseudo.detach()
    if task == 'semantic':
        target = _squeeze_channel(pseudo).long()
        num_classes = student_out.shape[1]
        valid = (target >= 0) & (target < num_classes)
        safe = torch.where(valid, target, torch.zeros_like(target))
        log_prob = F.log_softmax(student_out, dim=1)
        loss = -log_prob.gather(1, safe.unsqueeze(1)).squeeze(1)
    elif task == 'depth':
        target = _squeeze_channel(pseudo).to(dtype)
        pred = _squeeze_channel(student_out)
        valid = torch.isfinite(target)
        # Sanitise first: |d - NaN| would put NaN in the backward pass.
        safe = torch.where(valid, target, torch.zeros_like(target))
        loss = (pred - safe).abs()
    elif task == 'normal':
        target = pseudo.to(dtype)
        valid = (
            torch.isfinite(target).all(dim=1)
            & (target.abs().sum(dim=1) > 0))
        safe = torch.where(
            valid.unsqueeze(1), target, torch.zeros_like(target))
        loss = 1 - unit_cosine(student_out, safe)
    else:
        target = _squeeze_channel(pseudo).to(dtype)
        logit = _squeeze_channel(student_out)
        valid = torch.isfinite(target) & (target != PSEUDO_IGNORE_INDEX)
        safe = (valid & (target >= 0.5)).to(dtype)
        loss = F.binary_cross_entropy_with_logits(
            logit, safe, reduction='none')
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    return loss, valid


def sobel_magnitude(x: Tensor) -> Tensor:
    """Sobel gradient magnitude with zero padding 1.

    ``E = sqrt((Kx * x)^2 + (Ky * x)^2)`` with
    ``Kx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` and ``Ky = Kx^T``. Whether
    ``*`` is a convolution or a correlation only flips the signs, not
    ``E``.

    Args:
        x (Tensor): ``B x H x W`` map.

    Returns:
        Tensor: ``B x H x W`` magnitude, same dtype as ``x``.
    """
    # Separable (Kx = [1, 2, 1]^T [-1, 0, 1]) and by shifted slices: on
    # CPU a 1-in, 2-out 3x3 conv2d costs about 10x these few adds.
    pad = F.pad(x, (1, 1, 1, 1))
    rows = pad[:, :-2] + 2 * pad[:, 1:-1] + pad[:, 2:]
    grad_x = rows[:, :, 2:] - rows[:, :, :-2]
    cols = pad[:, :, :-2] + 2 * pad[:, :, 1:-1] + pad[:, :, 2:]
    grad_y = cols[:, 2:] - cols[:, :-2]
    return (grad_x * grad_x + grad_y * grad_y).sqrt()
