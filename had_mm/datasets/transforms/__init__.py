from .formatting import PackMultiTaskInputs
from .geometric import (MultiTaskRandomFlip, MultiTaskRandomScaleCrop,
                        MultiTaskResize)
from .loading import LoadMultiTaskAnnotations, LoadMultiTaskImage

__all__ = [
    'LoadMultiTaskAnnotations', 'LoadMultiTaskImage', 'MultiTaskRandomFlip',
    'MultiTaskRandomScaleCrop', 'MultiTaskResize', 'PackMultiTaskInputs'
]
