"""Cross-architecture knowledge distillation (HeteroAKD) and baselines.

The engine side (:class:`DistillValLoop`, :class:`StudentCheckpointHook`,
checkpoint helpers) lives in :mod:`had_mm.engine.distill`.
"""
from .heteroakd_distiller import HeteroAKDDistiller
from .losses import (KEM, KMM, ChannelWiseDivergenceLoss, HeteroAKDLoss,
                     LogitKDLoss, pixel_reliability)
from .recorders import (BaseRecorder, MethodOutputsRecorder,
                        ModuleOutputsRecorder, RecorderManager)
from .teacher_adapter import TeacherAdapter, gather_stages, probe_stages

__all__ = [
    'BaseRecorder', 'ChannelWiseDivergenceLoss', 'HeteroAKDDistiller',
    'HeteroAKDLoss', 'KEM', 'KMM', 'LogitKDLoss', 'MethodOutputsRecorder',
    'ModuleOutputsRecorder', 'RecorderManager', 'TeacherAdapter',
    'gather_stages', 'pixel_reliability', 'probe_stages'
]
