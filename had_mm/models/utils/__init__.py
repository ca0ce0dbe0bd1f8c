from .unit_normalize import inverse_norm, unit_cosine, unit_normalize

__all__ = ['inverse_norm', 'unit_cosine', 'unit_normalize']
