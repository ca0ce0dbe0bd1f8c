"""Channel-wise distillation (Shu et al., ICCV 2021), a baseline."""
import torch.nn.functional as F
from torch import Tensor

from had_mm.models.losses import upcast_half
from had_mm.registry import MODELS
from ...utils import resize_map
from .base_paired_map_loss import BasePairedMapLoss


@MODELS.register_module()
class ChannelWiseDivergenceLoss(BasePairedMapLoss):
    """CWD: KL between per-channel spatial distributions.

    Every channel ``c`` of an ``N x C x H x W`` map is turned into a
    distribution over its ``H * W`` positions, ``softmax(x_c / tau)``;
    the loss is ``tau^2 / (N * C) * sum_{n,c} KL(P_t,nc || P_s,nc)``
    (the normalisation of the paper and of MMRazor's
    ``ChannelWiseDivergence``). Teacher maps of another resolution are
    resized (bilinear) to the student's first.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        align_corners (bool): ``align_corners`` of the resize. Defaults to
            False.
        loss_name (str): Name of the loss item. Defaults to 'loss_cwd'.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 align_corners: bool = False,
                 loss_name: str = 'loss_cwd') -> None:
        super().__init__(tau, loss_weight, align_corners, loss_name)

    def pair_loss(self, student: Tensor, teacher: Tensor, **kwargs) -> Tensor:
        """The CWD of one ``N x C x H x W`` pair (logits or features)."""
        if student.shape[:2] != teacher.shape[:2]:
            raise ValueError(f'student {tuple(student.shape)} and teacher '
                             f'{tuple(teacher.shape)} maps differ in batch '
                             f'or channel count.')
        teacher = resize_map(teacher.detach(), student.shape[-2:], 'bilinear',
                             self.align_corners)
        n, c = student.shape[:2]
        s = upcast_half(student).reshape(n * c, -1) / self.tau
        t = upcast_half(teacher).reshape(n * c, -1) / self.tau
        log_p_t = F.log_softmax(t, dim=1)
        log_p_s = F.log_softmax(s, dim=1)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum()
        return self.tau**2 * kl / (n * c)
