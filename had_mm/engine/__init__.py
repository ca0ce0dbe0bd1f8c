from .distill import (DistillValLoop, StudentCheckpointHook,
                      split_distiller_state_dict, student_checkpoint)
from .hooks import LifelongStateHook
from .loops import LifelongTrainLoop
from .optimizers import CPUAmpOptimWrapper
from .runners import HADRunner

__all__ = [
    'DistillValLoop', 'StudentCheckpointHook', 'split_distiller_state_dict',
    'student_checkpoint', 'HADRunner', 'LifelongStateHook', 'LifelongTrainLoop'
]
