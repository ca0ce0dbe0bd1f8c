"""Plain pixel-wise logit KD (Hinton et al.), a distillation baseline."""
from torch import Tensor

from had_mm.registry import MODELS
from ...utils import resize_map
from .base_paired_map_loss import BasePairedMapLoss
from .utils import kl_div_map


@MODELS.register_module()
class LogitKDLoss(BasePairedMapLoss):
    """``tau^2 * mean_p KL(softmax(z_t / tau) || softmax(z_s / tau))``.

    Teacher logits of another resolution are resized (bilinear) to the
    student's first. A list of logit maps gives the sum over its pairs.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        align_corners (bool): ``align_corners`` of the resize. Defaults to
            False.
        loss_name (str): Name of the loss item. Defaults to 'loss_kd'.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 align_corners: bool = False,
                 loss_name: str = 'loss_kd') -> None:
        super().__init__(tau, loss_weight, align_corners, loss_name)

    def pair_loss(self, student: Tensor, teacher: Tensor, **kwargs) -> Tensor:
        """``tau^2 * mean_p KL`` of one ``B x C x H x W`` logit map pair
        (the teacher detached and resized to the student)."""
        teacher = resize_map(teacher.detach(), student.shape[-2:], 'bilinear',
                             self.align_corners)
        return self.tau**2 * kl_div_map(teacher, student, self.tau).mean()
