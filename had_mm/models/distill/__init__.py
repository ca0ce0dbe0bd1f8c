"""Cross-architecture knowledge distillation (HeteroAKD) and baselines.

The engine side (:class:`DistillValLoop`, :class:`StudentCheckpointHook`,
checkpoint helpers) lives in :mod:`had_mm.engine.distill`.
"""
from .hetero_lifelong_teacher import HeteroLifelongTeacher
from .heteroakd_distiller import HeteroAKDDistiller
from .losses import (KEM, KMM, ChannelWiseDivergenceLoss, HeteroAKDLoss,
                     LogitKDLoss, pixel_reliability)
from .recorders import (BaseRecorder, MethodOutputsRecorder,
                        ModuleOutputsRecorder, RecorderManager)
from .teacher_adapter import TeacherAdapter, gather_stages, probe_stages
from .teacher_utils import build_frozen_teacher

__all__ = [
    'BaseRecorder', 'ChannelWiseDivergenceLoss', 'HeteroAKDDistiller',
    'HeteroAKDLoss', 'HeteroLifelongTeacher', 'KEM', 'KMM', 'LogitKDLoss',
    'MethodOutputsRecorder', 'ModuleOutputsRecorder', 'RecorderManager',
    'TeacherAdapter', 'build_frozen_teacher', 'gather_stages',
    'pixel_reliability', 'probe_stages'
]
