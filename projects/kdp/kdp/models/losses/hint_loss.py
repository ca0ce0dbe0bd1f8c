import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import check_non_negative


@MODELS.register_module()
class HintLoss(nn.Module):
    """The FitNets hint loss: ``loss_weight * mean((r(f_s) - f_t)^2)``.

    The regressor ``r`` belongs to the distillation mode; this loss takes
    its output. The mean runs over every element; the teacher's features
    are detached.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = check_non_negative(loss_weight, 'loss_weight',
                                              'HintLoss')

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): The regressed student features, any shape.
            target (Tensor): The teacher's features, the same shape.

        Returns:
            Tensor: The scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError(f'HintLoss: the regressed student features '
                             f'{tuple(pred.shape)} and the teacher features '
                             f'{tuple(target.shape)} differ in shape')
        return self.loss_weight * F.mse_loss(pred, target.detach())
