"""Task-generic helpers shared by the distillation losses.

Plain functions (not registered): pseudo-labels from a frozen teacher
(docs/en/methods/had.md, section 3), the per-pixel distillation loss map
(section 4), the Sobel magnitude used by SG-HAD (section 6) and a masked
mean. The task-specific rules are those of each task's spec
(:meth:`~had_mm.tasks.TaskSpec.pseudo_label`,
:meth:`~had_mm.tasks.TaskSpec.distill_map`), so a task type registered
from another package is distilled without editing this module.

Shape conventions of the built-in tasks (task outputs: activated, at the
label's size; not a head's raw pre-activation output):

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

from had_mm.tasks import PSEUDO_IGNORE_INDEX, get_task, upcast_half

__all__ = [
    'PSEUDO_IGNORE_INDEX', 'check_task', 'check_task_outputs', 'masked_mean',
    'pixel_distill_loss_map', 'sobel_magnitude', 'teacher_pseudo_label',
    'upcast_half'
]


def check_task(task: str) -> str:
    """Return ``task`` if it is a registered task type, else raise.

    Args:
        task (str): Task type name.

    Returns:
        str: The same task name.

    Raises:
        ValueError: If ``task`` is not in the task table
            (:func:`had_mm.tasks.task_names`).
    """
    return get_task(task).name


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
        task (str): A registered task type (:func:`~had_mm.tasks.get_task`).
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
    return get_task(task).pseudo_label(teacher_out.detach())


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
        task (str): A registered task type (:func:`~had_mm.tasks.get_task`).
        student_out (Tensor): Raw student head output (see module doc).
        pseudo (Tensor): Pseudo-label of :func:`teacher_pseudo_label` (any
            ground truth in the same format works too).

    Returns:
        tuple[Tensor, Tensor]: ``loss_map`` (``B x H x W``, at least
        float32) and
        ``valid`` (``B x H x W`` bool).
    """
    spec = get_task(task)
    # at least float32, so that the task's map sums without overflow
    student_out = upcast_half(student_out)
    loss, valid = spec.distill_map(student_out, pseudo.detach())
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


def check_task_outputs(owner: str, task: str, student_out: Tensor,
                       teacher_out: Tensor) -> None:
    """Refuse outputs that are not ``task``'s task outputs, in one line.

    A distillation loss takes *task outputs*: activated, at the label's
    size (semantic logits, depth in metres, unit normals...). A head's raw
    pre-activation output given instead would be read as one (a
    ``DepthHead``'s raw output as metres); the task's spec says what it
    can check (:meth:`~had_mm.tasks.TaskSpec.output_problem`).

    Args:
        owner (str): The loss, for the message (``HADLoss(task='depth')``).
        task (str): The task.
        student_out (Tensor): The student's output.
        teacher_out (Tensor): The teacher's output.

    Raises:
        ValueError: Naming the output, what is wrong and what is expected.
    """
    spec = get_task(task)
    for who, out in (('student', student_out), ('teacher', teacher_out)):
        problem = spec.output_problem(out)
        if problem:
            raise ValueError(
                f'{owner}: the {who} output {problem}; it takes {task} task '
                f'outputs (activated, at the label\'s size, as a head\'s '
                f'predict_by_feat gives), not a head\'s raw pre-activation '
                f'output')
