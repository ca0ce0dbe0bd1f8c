from .lifelong_state_hook import LifelongStateHook
from .per_image_visualization_hook import PerImageVisualizationHook
from .rank_sync_hook import RankSyncHook
from .untrained_heads_hook import UntrainedHeadsHook

__all__ = [
    'LifelongStateHook', 'PerImageVisualizationHook', 'RankSyncHook',
    'UntrainedHeadsHook'
]
