"""Engine parts of distillation: teacher validation, student checkpoints."""
from .checkpoint_utils import split_distiller_state_dict, student_checkpoint
from .distill_val_loop import DistillValLoop
from .student_checkpoint_hook import StudentCheckpointHook

__all__ = [
    'DistillValLoop', 'StudentCheckpointHook', 'split_distiller_state_dict',
    'student_checkpoint'
]
