import torch
from torch import Tensor

from had_mm.registry import MODELS
from .dense_task_head import DenseTaskHead


@MODELS.register_module()
class DepthHead(DenseTaskHead):
    """Depth in metres, positive by construction.

    Args:
        body (dict): An mmseg decode head config.
        loss (dict): Default masked L1.
        activation (str): ``'sigmoid'``: ``max_depth * sigmoid(x)``;
            ``'exp'``: the body predicts log-depth, ``exp(x)``;
            ``'softplus'``: ``softplus(x) + min_depth``.
        max_depth (float): Upper bound of the sigmoid activation.
        min_depth (float): Floor of the softplus activation.
        **kwargs: See :class:`DenseTaskHead`.
    """

    task = 'depth'
    ACTIVATIONS = ('sigmoid', 'exp', 'softplus')

    def __init__(self,
                 body: dict,
                 loss: dict = dict(type='had_mm.MaskedL1Loss'),
                 activation: str = 'sigmoid',
                 max_depth: float = 10.0,
                 min_depth: float = 1e-3,
                 **kwargs) -> None:
        if activation not in self.ACTIVATIONS:
            raise ValueError(f'DepthHead activation must be one of '
                             f'{self.ACTIVATIONS}, got {activation!r}')
        super().__init__(body, loss, **kwargs)
        self.activation = activation
        self.max_depth = max_depth
        self.min_depth = min_depth

    def activate(self, raw: Tensor) -> Tensor:
        if self.activation == 'sigmoid':
            return self.max_depth * torch.sigmoid(raw)
        if self.activation == 'exp':
            return torch.exp(raw.clamp(max=20))
        return torch.nn.functional.softplus(raw) + self.min_depth
