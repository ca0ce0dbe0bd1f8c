from .lifelong_report import (LifelongReport, build_report, check_matrix,
                              compute_bwt, compute_delta_m, compute_forgetting,
                              format_summary, format_task_matrix, load_report,
                              write_report)
from .metrics import (DEFAULT_SALIENCY_THRESHOLDS, BaseDenseMetric,
                      DepthErrorMetric, MultiTaskMetric, NormalErrorMetric,
                      SaliencyMetric, SemanticIoUMetric, get_pixel_data,
                      primary_key, resize_to)

__all__ = [
    'BaseDenseMetric', 'get_pixel_data', 'resize_to', 'DepthErrorMetric',
    'NormalErrorMetric', 'SaliencyMetric', 'DEFAULT_SALIENCY_THRESHOLDS',
    'SemanticIoUMetric', 'MultiTaskMetric', 'primary_key', 'LifelongReport',
    'build_report', 'check_matrix', 'compute_bwt', 'compute_delta_m',
    'compute_forgetting', 'format_summary', 'format_task_matrix',
    'load_report', 'write_report'
]
