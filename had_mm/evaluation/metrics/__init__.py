from .base_dense_metric import BaseDenseMetric, get_pixel_data, resize_to
from .depth_error_metric import DepthErrorMetric
from .multi_task_metric import MultiTaskMetric, primary_key
from .normal_error_metric import NormalErrorMetric
from .saliency_metric import DEFAULT_SALIENCY_THRESHOLDS, SaliencyMetric
from .semantic_iou_metric import SemanticIoUMetric

__all__ = [
    'BaseDenseMetric', 'get_pixel_data', 'resize_to', 'DepthErrorMetric',
    'NormalErrorMetric', 'SaliencyMetric', 'DEFAULT_SALIENCY_THRESHOLDS',
    'SemanticIoUMetric', 'MultiTaskMetric', 'primary_key'
]
