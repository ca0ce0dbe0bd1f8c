"""Recorders: capture intermediate outputs without editing the models."""
from .base_recorder import BaseRecorder, get_module_or_raise
from .method_outputs_recorder import MethodOutputsRecorder
from .module_outputs_recorder import ModuleOutputsRecorder
from .recorder_manager import RecorderManager

__all__ = [
    'BaseRecorder', 'MethodOutputsRecorder', 'ModuleOutputsRecorder',
    'RecorderManager', 'get_module_or_raise'
]
