from .lifelong_state_hook import LifelongStateHook
from .per_image_visualization_hook import PerImageVisualizationHook
from .untrained_heads_hook import UntrainedHeadsHook

__all__ = [
    'LifelongStateHook', 'PerImageVisualizationHook', 'UntrainedHeadsHook'
]
