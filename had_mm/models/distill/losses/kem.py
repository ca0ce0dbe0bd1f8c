"""KEM: teacher-student knowledge evaluation.

See docs/en/methods/heteroakd.md, section 3.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from .utils import pixel_reliability


@MODELS.register_module()
class KEM(nn.Module):
    """Per-pixel weights: how much the student gains from the mix.

    - discrepancy ``D(p) = max(0, H_s(p) - H_mix(p))``;
    - weights ``w = HW * softmax_p(D(p) / T_w)``, per image (so the mean
      weight of every image is 1), detached.

    Args:
        temp_w (float): Temperature ``T_w`` of the spatial softmax.
            Defaults to 1.0.
        ignore_index (int): Label of unlabelled pixels (their ``H`` is the
            entropy). Defaults to 255.
    """

    def __init__(self, temp_w: float = 1.0, ignore_index: int = 255) -> None:
        super().__init__()
        if temp_w <= 0:
            raise ValueError(f'temp_w must be > 0, got {temp_w}')
        self.temp_w = temp_w
        self.ignore_index = ignore_index

    @torch.no_grad()
    def forward(self, student_logits: Tensor, mixed_logits: Tensor,
                gt: Tensor) -> Tensor:
        """Pixel weights from the student and the mixed logits.

        Args:
            student_logits (Tensor): ``B x C x H x W`` student logits.
            mixed_logits (Tensor): ``B x C x H x W`` mixed logits (KMM).
            gt (Tensor): ``B x H x W`` labels.

        Returns:
            Tensor: ``B x H x W`` weights, mean 1 per image, detached.
        """
        h_s = pixel_reliability(student_logits.detach(), gt, self.ignore_index)
        h_mix = pixel_reliability(mixed_logits.detach(), gt, self.ignore_index)
        gain = (h_s - h_mix).clamp(min=0)
        b_size, height, width = gain.shape
        weights = F.softmax(gain.reshape(b_size, -1) / self.temp_w, dim=1)
        return (weights * (height * width)).reshape(b_size, height, width)
