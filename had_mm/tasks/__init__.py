"""The dense task types: one registered spec per task (the task table)."""
from .task_spec import (DISTILL_KINDS, PSEUDO_IGNORE_INDEX, TaskSpec,
                        check_tasks, get_task, label_tasks, primary_metrics,
                        squeeze_channel, task_names, upcast_half)

# Registration order is the canonical task order.
# isort: off
from .semantic import SemanticTask
from .depth import DepthTask
from .normal import NormalTask
from .saliency import SaliencyTask, binary_distill_map, binary_pseudo_label
# isort: on

#: The four task types had_mm ships, in canonical order.
BUILTIN_TASKS = ('semantic', 'depth', 'normal', 'saliency')

__all__ = [
    'BUILTIN_TASKS', 'DISTILL_KINDS', 'PSEUDO_IGNORE_INDEX', 'TaskSpec',
    'check_tasks', 'get_task', 'label_tasks', 'primary_metrics',
    'squeeze_channel', 'task_names', 'upcast_half', 'SemanticTask',
    'DepthTask', 'NormalTask', 'SaliencyTask', 'binary_distill_map',
    'binary_pseudo_label'
]
