from .checkpoint import (CheckpointLoadError, UnreadableCheckpointError,
                         check_checkpoint_path, check_state_dict,
                         explain_load_error, explain_unpickling_error,
                         load_model_checkpoint, load_weights, read_checkpoint,
                         register_checkpoint_safe_globals)
from .distill import (DistillValLoop, StudentCheckpointHook,
                      split_distiller_state_dict, student_checkpoint)
from .hooks import LifelongStateHook
from .loops import LifelongTrainLoop
from .optimizers import CPUAmpOptimWrapper
from .runners import HADRunner

__all__ = [
    'CheckpointLoadError', 'DistillValLoop', 'StudentCheckpointHook',
    'UnreadableCheckpointError', 'check_checkpoint_path', 'check_state_dict',
    'explain_load_error', 'load_model_checkpoint', 'load_weights',
    'read_checkpoint', 'split_distiller_state_dict', 'student_checkpoint',
    'HADRunner', 'LifelongStateHook', 'LifelongTrainLoop',
    'explain_unpickling_error', 'register_checkpoint_safe_globals'
]
