from .dense_task_head import DenseTaskHead
from .depth_head import DepthHead
from .normal_head import NormalHead
from .saliency_head import SaliencyHead

__all__ = ['DenseTaskHead', 'DepthHead', 'NormalHead', 'SaliencyHead']
