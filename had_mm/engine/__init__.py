from .checkpoint import (explain_unpickling_error,
                         register_checkpoint_safe_globals)
from .runners import CheckpointLoadError, HADRunner

__all__ = [
    'CheckpointLoadError', 'HADRunner', 'explain_unpickling_error',
    'register_checkpoint_safe_globals'
]
