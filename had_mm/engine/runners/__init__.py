from .had_runner import CheckpointLoadError, HADRunner

__all__ = ['CheckpointLoadError', 'HADRunner']
