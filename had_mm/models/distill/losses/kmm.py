"""KMM: teacher-student knowledge mixing.

See docs/en/methods/heteroakd.md, section 2.
"""
from typing import Tuple

import torch
import torch.nn as nn
from torch import Tensor

from had_mm.registry import MODELS
from .utils import pixel_reliability


@MODELS.register_module()
class KMM(nn.Module):
    """Teacher-student knowledge mixing: a per-pixel reliability blend.

    With ``H`` the unreliability of :func:`pixel_reliability` (cross-entropy
    against the label, entropy where there is none), per pixel ``p``:

    - teacher share ``a(p) = H_s(p) / (H_t(p) + H_s(p))``, so the teacher
      counts more where it is more reliable than the student;
    - mixed logits ``z_mix(p) = a(p) * z_t(p) + (1 - a(p)) * z_s(p)``,
      detached (a target).

    Numerically ``a = (H_s + eps) / (H_t + H_s + 2 eps)``, which is the
    formula above up to ``eps`` and 0.5 where both are exact.

    Args:
        ignore_index (int): Label of unlabelled pixels. Defaults to 255.
        eps (float): Keeps ``a`` defined where ``H_t = H_s = 0``.
            Defaults to 1e-8.
    """

    def __init__(self, ignore_index: int = 255, eps: float = 1e-8) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.eps = eps

    @torch.no_grad()
    def forward(self, student_logits: Tensor, teacher_logits: Tensor,
                gt: Tensor) -> Tuple[Tensor, Tensor]:
        """Mix teacher and student logits.

        Args:
            student_logits (Tensor): ``B x C x H x W`` student logits.
            teacher_logits (Tensor): ``B x C x H x W`` teacher logits.
            gt (Tensor): ``B x H x W`` labels (``ignore_index`` = none).

        Returns:
            tuple[Tensor, Tensor]: ``z_mix`` (``B x C x H x W``, detached)
            and the teacher share ``a`` (``B x H x W``).
        """
        student_logits = student_logits.detach().float()
        teacher_logits = teacher_logits.detach().float()
        h_s = pixel_reliability(student_logits, gt, self.ignore_index)
        h_t = pixel_reliability(teacher_logits, gt, self.ignore_index)
        share = (h_s + self.eps) / (h_t + h_s + 2 * self.eps)
        a = share[:, None]
        mixed = a * teacher_logits + (1 - a) * student_logits
        return mixed, share
