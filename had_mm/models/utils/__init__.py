from .resize import resize_map
from .unit_normalize import inverse_norm, unit_cosine, unit_normalize

__all__ = ['inverse_norm', 'resize_map', 'unit_cosine', 'unit_normalize']
