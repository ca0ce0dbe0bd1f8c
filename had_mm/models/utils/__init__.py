from .unit_normalize import unit_normalize

__all__ = ['unit_normalize']
