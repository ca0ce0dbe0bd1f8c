from .unit_normalize import unit_cosine, unit_normalize

__all__ = ['unit_cosine', 'unit_normalize']
