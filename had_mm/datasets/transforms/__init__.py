from .formatting import PackMultiTaskInputs
from .geometric import (MultiTaskRandomFlip, MultiTaskRandomScaleCrop,
                        MultiTaskResize)
from .inferencer_loading import IMAGE_EXTENSIONS, MultiTaskInferencerLoader
from .loading import LoadMultiTaskAnnotations, LoadMultiTaskImage

__all__ = [
    'IMAGE_EXTENSIONS', 'LoadMultiTaskAnnotations', 'LoadMultiTaskImage',
    'MultiTaskInferencerLoader', 'MultiTaskRandomFlip',
    'MultiTaskRandomScaleCrop', 'MultiTaskResize', 'PackMultiTaskInputs'
]
