"""KDP evaluation: per-task accuracy and continual summaries."""
from .continual_metrics import (average_accuracy, build_continual_report,
                                forgetting, format_continual_report,
                                load_continual_report, summarize,
                                task_forgetting, write_continual_report)
from .task_accuracy import TaskAccuracy

__all__ = [
    'TaskAccuracy', 'average_accuracy', 'build_continual_report', 'forgetting',
    'format_continual_report', 'load_continual_report', 'summarize',
    'task_forgetting', 'write_continual_report'
]
