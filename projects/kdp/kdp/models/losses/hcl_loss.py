from typing import Sequence

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import check_non_negative


@MODELS.register_module()
class HCLLoss(nn.Module):
    """ReviewKD's hierarchical context loss (Chen et al., CVPR 2021).

    For each pair of feature maps ``(f_s, f_t)`` (``B x C x H x W``):

    ``l = (mse(f_s, f_t) + sum_k w_k mse(P_k f_s, P_k f_t)) / (1 + sum_k
    w_k)``

    with ``P_k`` the adaptive average pooling to ``k x k`` for each ``k``
    of ``pyramid`` smaller than ``min(H, W)``, and ``w = 1/2, 1/4, ...``
    for those sizes in order. The loss is ``loss_weight * sum_levels l``.
    The teacher's features are detached.

    Args:
        pyramid (Sequence[int]): Pooled sizes, largest first. Defaults to
            ``(4, 2, 1)``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 pyramid: Sequence[int] = (4, 2, 1),
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.pyramid = tuple(int(k) for k in pyramid)
        if any(k < 1 for k in self.pyramid):
            raise ValueError(f'HCLLoss: pyramid={list(self.pyramid)} must '
                             f'hold positive sizes')
        self.loss_weight = check_non_negative(loss_weight, 'loss_weight',
                                              'HCLLoss')

    def level_loss(self, fs: Tensor, ft: Tensor) -> Tensor:
        """The loss ``l`` of one level.

        Args:
            fs (Tensor): Student feature map, ``B x C x H x W``.
            ft (Tensor): Teacher feature map, the same shape.

        Returns:
            Tensor: The scalar loss of the level.
        """
        if fs.shape != ft.shape or fs.dim() != 4:
            raise ValueError(f'HCLLoss: the student map {tuple(fs.shape)} '
                             f'and the teacher map {tuple(ft.shape)} must '
                             f'both be B x C x H x W of one shape')
        ft = ft.detach()
        loss = F.mse_loss(fs, ft)
        weight, total = 1.0, 1.0
        for size in self.pyramid:
            if size >= min(fs.shape[-2:]):
                continue
            weight /= 2
            loss = loss + weight * F.mse_loss(
                F.adaptive_avg_pool2d(fs, size), F.adaptive_avg_pool2d(
                    ft, size))
            total += weight
        return loss / total

    def forward(self, student_feats: Sequence[Tensor],
                teacher_feats: Sequence[Tensor]) -> Tensor:
        """Forward function.

        Args:
            student_feats (Sequence[Tensor]): Student maps, one per level.
            teacher_feats (Sequence[Tensor]): Teacher maps, level by level.

        Returns:
            Tensor: The scalar loss.
        """
        if len(student_feats) != len(teacher_feats) or not student_feats:
            raise ValueError(f'HCLLoss: {len(student_feats)} student levels '
                             f'and {len(teacher_feats)} teacher levels must '
                             f'be as many, and at least one')
        total = sum(
            self.level_loss(fs, ft)
            for fs, ft in zip(student_feats, teacher_feats))
        return self.loss_weight * total
