from .checkpoint import (explain_unpickling_error,
                         register_checkpoint_safe_globals)
from .distill import (DistillValLoop, StudentCheckpointHook, check_state_dict,
                      load_weights, split_distiller_state_dict,
                      student_checkpoint)
from .hooks import LifelongStateHook
from .loops import LifelongTrainLoop
from .optimizers import CPUAmpOptimWrapper
from .runners import CheckpointLoadError, HADRunner

__all__ = [
    'CheckpointLoadError', 'DistillValLoop', 'StudentCheckpointHook',
    'check_state_dict', 'load_weights', 'split_distiller_state_dict',
    'student_checkpoint', 'HADRunner', 'LifelongStateHook',
    'LifelongTrainLoop', 'explain_unpickling_error',
    'register_checkpoint_safe_globals'
]
