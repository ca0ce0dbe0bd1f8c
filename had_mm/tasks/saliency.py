from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import TASKS
from .task_spec import PSEUDO_IGNORE_INDEX, TaskSpec, squeeze_channel


def binary_pseudo_label(teacher_out: Tensor) -> Tensor:
    """``sigmoid(z) >= 0.5`` of a one-channel logit, as ``B x 1 x H x W``
    float in {0, 1}; :data:`PSEUDO_IGNORE_INDEX` where ``z`` is not finite.

    Args:
        teacher_out (Tensor): ``B x 1 x H x W`` raw logits.

    Returns:
        Tensor: The pseudo-label.
    """
    # sigmoid(z) > 0.5 <=> z > 0
    label = (teacher_out > 0).to(teacher_out.dtype)
    return torch.where(
        torch.isfinite(teacher_out), label,
        torch.full_like(label, float(PSEUDO_IGNORE_INDEX)))


def binary_distill_map(student_out: Tensor,
                       pseudo: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-pixel BCE of a student logit against a 0/1 pseudo-label.

    Args:
        student_out (Tensor): ``B x 1 x H x W`` raw student logits.
        pseudo (Tensor): Pseudo-label (values ``>= 0.5`` positive,
            :data:`PSEUDO_IGNORE_INDEX` or non-finite = invalid).

    Returns:
        tuple[Tensor, Tensor]: ``B x H x W`` loss and valid mask.
    """
    dtype = student_out.dtype
    target = squeeze_channel(pseudo).to(dtype)
    logit = squeeze_channel(student_out)
    valid = torch.isfinite(target) & (target != PSEUDO_IGNORE_INDEX)
    safe = (valid & (target >= 0.5)).to(dtype)
    loss = F.binary_cross_entropy_with_logits(logit, safe, reduction='none')
    return loss, valid


@TASKS.register_module(name='saliency')
class SaliencyTask(TaskSpec):
    """Saliency: one logit channel, labels 1 salient / 0 not / 255 ignore.

    The pseudo-label is ``sigmoid >= 0.5`` of the teacher and the per-pixel
    distillation loss the BCE of the student logit against it.
    """

    name = 'saliency'
    label_key = 'gt_saliency'
    label_field = 'gt_saliency'
    label_dtype = 'int64'
    pred_field = 'pred_saliency'
    out_channels = 1
    pad_value = 255
    ignore_value = 255
    invalid_desc = '255'
    primary_metric = 'max_f'
    primary_direction = +1
    metric_type = 'SaliencyMetric'
    distill_kind = 'binary'
    missing_hint = (' (NYUv2 has no saliency labels: derive them with '
                    'tools/data/derive_saliency.py)')

    def metric_kwargs(self, num_classes: Optional[int],
                      class_names: Optional[Sequence[str]],
                      ignore_index: int) -> dict:
        """The ignore index for :class:`SaliencyMetric`."""
        return dict(ignore_index=ignore_index)

    def pseudo_label(self, teacher_out: Tensor) -> Tensor:
        """See :func:`binary_pseudo_label`."""
        return binary_pseudo_label(teacher_out)

    def distill_map(self, student_out: Tensor,
                    pseudo: Tensor) -> Tuple[Tensor, Tensor]:
        """See :func:`binary_distill_map`."""
        return binary_distill_map(student_out, pseudo)
