"""Task losses and HAD distillation losses (registered in ``MODELS``)."""
from .balanced_bce_loss import BalancedBCELoss
from .base_distill_loss import BaseDistillLoss
from .base_task_loss import BaseTaskLoss
from .cosine_normal_loss import CosineNormalLoss
from .db_had_loss import DBHADLoss
from .distill_utils import (PSEUDO_IGNORE_INDEX, check_task, masked_mean,
                            pixel_distill_loss_map, sobel_magnitude,
                            teacher_pseudo_label, upcast_half)
from .had_loss import HADLoss
from .masked_l1_loss import MaskedL1Loss
from .pixel_distill_loss import PixelDistillLoss
from .sg_had_loss import SGHADLoss

__all__ = [
    'MaskedL1Loss', 'CosineNormalLoss', 'BalancedBCELoss', 'PixelDistillLoss',
    'BaseDistillLoss', 'BaseTaskLoss', 'DBHADLoss', 'SGHADLoss', 'HADLoss',
    'PSEUDO_IGNORE_INDEX', 'check_task', 'masked_mean', 'teacher_pseudo_label',
    'pixel_distill_loss_map', 'sobel_magnitude', 'upcast_half'
]
