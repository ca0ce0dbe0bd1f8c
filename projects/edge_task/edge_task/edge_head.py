from typing import Dict

import torch
from mmengine.structures import PixelData
from torch import Tensor

from had_mm.models.heads import DenseTaskHead
from had_mm.registry import MODELS


@MODELS.register_module()
class EdgeHead(DenseTaskHead):
    """Edges: one logit channel (probability = sigmoid at prediction).

    Channels and label / prediction fields come from the ``edge`` task
    spec; the body is any mmseg decode head.

    Args:
        body (dict): An mmseg decode head config.
        loss (dict): Default :class:`ClassMeanBCELoss`.
        **kwargs: See :class:`~had_mm.models.heads.DenseTaskHead`.
    """

    task = 'edge'

    def __init__(self,
                 body: dict,
                 loss: dict = dict(type='had_mm.ClassMeanBCELoss'),
                 **kwargs) -> None:
        super().__init__(body, loss, **kwargs)

    def to_pixel_data(self, out: Tensor) -> Dict[str, PixelData]:
        """The edge probability under ``pred_edge``."""
        return {self.spec.pred_field: PixelData(data=torch.sigmoid(out))}
