from typing import Dict

import torch
from mmengine.structures import PixelData
from torch import Tensor

from had_mm.registry import MODELS
from .dense_task_head import DenseTaskHead


@MODELS.register_module()
class SaliencyHead(DenseTaskHead):
    """Saliency: one logit channel (probability = sigmoid at prediction).

    Args:
        body (dict): An mmseg decode head config.
        loss (dict): Default class-balanced BCE on the logit.
        **kwargs: See :class:`DenseTaskHead`.
    """

    task = 'saliency'

    def __init__(self,
                 body: dict,
                 loss: dict = dict(type='had_mm.BalancedBCELoss'),
                 **kwargs) -> None:
        super().__init__(body, loss, **kwargs)

    def to_pixel_data(self, out: Tensor) -> Dict[str, PixelData]:
        return dict(pred_saliency=PixelData(data=torch.sigmoid(out)))
