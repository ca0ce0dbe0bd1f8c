from .resize import resize_map

__all__ = ['resize_map']
