from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import TASKS
from .task_spec import PSEUDO_IGNORE_INDEX, TaskSpec, squeeze_channel


@TASKS.register_module(name='semantic')
class SemanticTask(TaskSpec):
    """Semantic segmentation: ``C`` logits, class-index labels.

    Labels are ``1 x H x W`` long class indices with 255 = ignore; the
    pseudo-label is the teacher's argmax and the per-pixel distillation
    loss the cross-entropy ``-log softmax(z_s)[y^]``.
    """

    name = 'semantic'
    label_key = 'gt_seg_map'
    label_field = 'gt_sem_seg'
    label_dtype = 'int64'
    pred_field = 'pred_sem_seg'
    out_channels = None  # one per class
    pad_value = 255
    ignore_value = 255
    invalid_desc = '255'
    primary_metric = 'mIoU'
    primary_direction = +1
    metric_type = 'SemanticIoUMetric'
    distill_kind = 'classification'

    def metric_kwargs(self, num_classes: Optional[int],
                      class_names: Optional[Sequence[str]],
                      ignore_index: int) -> dict:
        """Classes and ignore index for :class:`SemanticIoUMetric`."""
        return dict(
            num_classes=num_classes,
            class_names=class_names,
            ignore_index=ignore_index)

    def pseudo_label(self, teacher_out: Tensor) -> Tensor:
        """``argmax_c`` as ``B x H x W`` long; 255 where a logit is NaN or
        +inf."""
        # max propagates NaN and keeps +inf, so one pass finds both;
        # a -inf logit (an impossible class) leaves the argmax valid.
        top, label = teacher_out.max(dim=1)
        return torch.where(
            torch.isfinite(top), label,
            torch.full_like(label, PSEUDO_IGNORE_INDEX))

    def distill_map(self, student_out: Tensor,
                    pseudo: Tensor) -> Tuple[Tensor, Tensor]:
        """``-log softmax(z_s)[y^]``, valid where ``y^`` is in ``[0, C)``.
        """
        target = squeeze_channel(pseudo).long()
        num_classes = student_out.shape[1]
        valid = (target >= 0) & (target < num_classes)
        safe = torch.where(valid, target, torch.zeros_like(target))
        log_prob = F.log_softmax(student_out, dim=1)
        loss = -log_prob.gather(1, safe.unsqueeze(1)).squeeze(1)
        return loss, valid
