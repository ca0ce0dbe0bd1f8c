from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from had_mm.registry import TASKS
from .task_spec import TaskSpec, squeeze_channel


@TASKS.register_module(name='depth')
class DepthTask(TaskSpec):
    """Depth estimation: one channel of metres, 0 = invalid label.

    The pseudo-label is the raw teacher depth and the per-pixel
    distillation loss ``|d_s - d^|``. A scale-crop zooming in by ``s``
    divides the depth by ``s``.
    """

    name = 'depth'
    label_key = 'gt_depth_map'
    label_field = 'gt_depth_map'
    label_dtype = 'float32'
    pred_field = 'pred_depth_map'
    out_channels = 1
    pad_value = 0.0
    ignore_value = 0.0
    invalid_desc = '0 / NaN / inf'
    zoom_divides = True
    primary_metric = 'abs_err'
    primary_direction = -1
    metric_type = 'DepthErrorMetric'
    distill_kind = 'regression'
    unit = 'm'

    def valid_mask(self, label: np.ndarray) -> np.ndarray:
        """Positive depth is valid."""
        return label > 0

    def output_problem(self, out: Tensor) -> Optional[str]:
        """Depth is metres, never negative (a head's raw output is)."""
        low = float(out.detach().nan_to_num(0.0).min())
        return f'has negative values (min {low:.3g})' if low < 0 else None

    def pseudo_label(self, teacher_out: Tensor) -> Tensor:
        """The raw teacher depth (non-finite values stay, and are masked).
        """
        return teacher_out

    def distill_map(self, student_out: Tensor,
                    pseudo: Tensor) -> Tuple[Tensor, Tensor]:
        """``|d_s - d^|``, valid where ``d^`` is finite."""
        target = squeeze_channel(pseudo).to(student_out.dtype)
        pred = squeeze_channel(student_out)
        valid = torch.isfinite(target)
        # Sanitise first: |d - NaN| would put NaN in the backward pass.
        safe = torch.where(valid, target, torch.zeros_like(target))
        return (pred - safe).abs(), valid
