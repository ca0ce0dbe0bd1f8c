from .had_runner import HADRunner

__all__ = ['HADRunner']
