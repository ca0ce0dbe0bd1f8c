from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from had_mm.registry import TASKS
from .task_spec import TaskSpec
from .unit_vectors import unit_cosine, unit_normalize


@TASKS.register_module(name='normal')
class NormalTask(TaskSpec):
    """Surface normals: three channels, unit vectors (camera frame).

    The zero vector is an invalid label; a horizontal flip negates the x
    channel. The pseudo-label is the unit teacher normal and the per-pixel
    distillation loss ``1 - <n_s, n^>`` with the true dot product of unit
    vectors (the reference divides it by 3).
    """

    name = 'normal'
    label_key = 'gt_normal'
    label_field = 'gt_normal'
    label_dtype = 'float32'
    pred_field = 'pred_normal'
    out_channels = 3
    pad_value = 0.0
    ignore_value = 0.0
    invalid_desc = 'zero vector'
    flip_negate_channel = 0
    primary_metric = 'mean'
    primary_direction = -1
    metric_type = 'NormalErrorMetric'
    distill_kind = 'normal'

    def valid_mask(self, label: np.ndarray) -> np.ndarray:
        """A non-zero vector is valid."""
        return np.any(label != 0, axis=-1)

    def output_problem(self, out: Tensor) -> Optional[str]:
        """Normals are unit vectors (or zero where invalid); the tolerance
        allows half-precision outputs."""
        norm = out.detach().float().norm(dim=1)
        norm = norm[torch.isfinite(norm) & (norm > 0)]
        worst = float((norm - 1).abs().max()) if norm.numel() else 0.0
        return None if worst <= 0.05 else (
            f'is not unit vectors (|norm - 1| up to {worst:.3g})')

    def renormalize(self, out: Tensor) -> Tensor:
        """Unit vectors again after a bilinear resize."""
        return unit_normalize(out, dim=1, eps=1e-6)

    def pseudo_label(self, teacher_out: Tensor) -> Tensor:
        """The unit-normalised normal (a zero vector stays zero); NaN
        where the teacher output is not finite."""
        finite = torch.isfinite(teacher_out).all(dim=1, keepdim=True)
        unit = unit_normalize(teacher_out)
        return torch.where(finite, unit, torch.full_like(unit, float('nan')))

    def distill_map(self, student_out: Tensor,
                    pseudo: Tensor) -> Tuple[Tensor, Tensor]:
        """``1 - cos(n_s, n^)``, valid where ``n^`` is finite and not the
        zero vector (the student normal is unit-normalised too)."""
        target = pseudo.to(student_out.dtype)
        valid = (
            torch.isfinite(target).all(dim=1)
            & (target.abs().sum(dim=1) > 0))
        safe = torch.where(
            valid.unsqueeze(1), target, torch.zeros_like(target))
        return 1 - unit_cosine(student_out, safe), valid
