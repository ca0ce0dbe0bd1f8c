"""Engine parts of distillation: teacher validation, student checkpoints,
teacher adapter fitting."""
from .adapter_fitting import build_adapter_optim_wrapper, fit_teacher_adapter
from .checkpoint_utils import (check_state_dict, load_weights,
                               split_distiller_state_dict, student_checkpoint)
from .distill_val_loop import DistillValLoop
from .student_checkpoint_hook import StudentCheckpointHook

__all__ = [
    'DistillValLoop', 'StudentCheckpointHook', 'build_adapter_optim_wrapper',
    'check_state_dict', 'fit_teacher_adapter', 'load_weights',
    'split_distiller_state_dict', 'student_checkpoint'
]
