from ..checkpoint import CheckpointLoadError
from .had_runner import HADRunner

__all__ = ['CheckpointLoadError', 'HADRunner']
