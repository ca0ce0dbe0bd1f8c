"""Cross-architecture knowledge distillation (HeteroAKD) and baselines.

The engine side (:class:`DistillValLoop`, :class:`StudentCheckpointHook`,
checkpoint helpers) lives in :mod:`had_mm.engine.distill`.
"""
from .frozen_teacher import FrozenTeacherMixin
from .hetero_lifelong_teacher import HeteroLifelongTeacher, decode_stride
from .heteroakd_distiller import HeteroAKDDistiller
from .losses import (KEM, KMM, ChannelWiseDivergenceLoss, HeteroAKDLoss,
                     LogitKDLoss, pixel_reliability)
from .recorders import (BaseRecorder, MethodOutputsRecorder,
                        ModuleOutputsRecorder, RecorderManager)
from .teacher_adapter import TeacherAdapter, gather_stages, probe_stages
from .teacher_source import OnlineTeacher, TeacherRaw
from .teacher_utils import build_frozen_teacher

__all__ = [
    'BaseRecorder', 'ChannelWiseDivergenceLoss', 'FrozenTeacherMixin',
    'HeteroAKDDistiller', 'HeteroAKDLoss', 'HeteroLifelongTeacher', 'KEM',
    'KMM', 'LogitKDLoss', 'MethodOutputsRecorder', 'ModuleOutputsRecorder',
    'OnlineTeacher', 'RecorderManager', 'TeacherAdapter', 'TeacherRaw',
    'build_frozen_teacher', 'decode_stride', 'gather_stages',
    'pixel_reliability', 'probe_stages'
]
