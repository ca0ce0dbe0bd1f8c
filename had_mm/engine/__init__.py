from .checkpoint import (explain_unpickling_error,
                         register_checkpoint_safe_globals)
from .hooks import LifelongStateHook
from .loops import LifelongTrainLoop
from .runners import CheckpointLoadError, HADRunner

__all__ = [
    'CheckpointLoadError', 'HADRunner', 'LifelongStateHook',
    'LifelongTrainLoop', 'explain_unpickling_error',
    'register_checkpoint_safe_globals'
]
