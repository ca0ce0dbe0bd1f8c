from .lifelong_state_hook import LifelongStateHook
from .per_image_visualization_hook import PerImageVisualizationHook

__all__ = ['LifelongStateHook', 'PerImageVisualizationHook']
