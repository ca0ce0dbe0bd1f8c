from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks.unit_vectors import unit_normalize
from .dense_task_head import DenseTaskHead


@MODELS.register_module()
class NormalHead(DenseTaskHead):
    """Surface normals: three channels, L2-normalised to unit vectors.

    Args:
        body (dict): An mmseg decode head config.
        loss (dict): Default cosine loss.
        **kwargs: See :class:`DenseTaskHead`.
    """

    task = 'normal'

    def __init__(self,
                 body: dict,
                 loss: dict = dict(type='had_mm.CosineNormalLoss'),
                 **kwargs) -> None:
        super().__init__(body, loss, **kwargs)

    def activate(self, raw: Tensor) -> Tensor:
        # normalising after the resize keeps interpolated vectors unit
        return unit_normalize(raw, dim=1, eps=1e-6)
