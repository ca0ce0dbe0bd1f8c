from .efficientnet_lite import EfficientNetLite
from .efficientnet_lite_weights import (bundled_weights_path,
                                        convert_efficientnet_lite)

__all__ = [
    'EfficientNetLite', 'bundled_weights_path', 'convert_efficientnet_lite'
]
