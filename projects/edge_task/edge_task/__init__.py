"""The ``edge`` task type for had_mm, from outside had_mm.

Importing this package (``custom_imports``) registers a task spec
(:class:`EdgeTask`, in ``had_mm.registry.TASKS``), a head
(:class:`EdgeHead`), a loss (:class:`ClassMeanBCELoss`) and a metric
(:class:`EdgeMaxFMetric`); the dataset, transforms, predictor, lifelong
loop, metric and HAD losses then know the task from its spec.
"""
from .class_mean_bce_loss import ClassMeanBCELoss
from .edge_head import EdgeHead
from .edge_labels import edges_from_semantic
from .edge_max_f_metric import DEFAULT_EDGE_THRESHOLDS, EdgeMaxFMetric
from .edge_task_spec import EdgeTask

__all__ = [
    'ClassMeanBCELoss', 'EdgeHead', 'edges_from_semantic',
    'DEFAULT_EDGE_THRESHOLDS', 'EdgeMaxFMetric', 'EdgeTask'
]
