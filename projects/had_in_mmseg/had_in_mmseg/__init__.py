"""HAD for a stock MMSegmentation segmentor: class-incremental semantic
segmentation, plugged in with ``custom_imports`` (no mmseg edits)."""
from .class_group_iou_metric import ClassGroupIoUMetric
from .class_incremental_train_loop import ClassIncrementalTrainLoop
from .incremental_seg_distiller import (IncrementalSegDistiller,
                                        segmentor_state_dict)
from .select_classes import SelectClasses

__all__ = [
    'ClassGroupIoUMetric', 'ClassIncrementalTrainLoop',
    'IncrementalSegDistiller', 'SelectClasses', 'segmentor_state_dict'
]
