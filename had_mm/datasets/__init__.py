from .nyuv2_multitask_dataset import (NYUV2_13_CLASSES, NYUV2_40_CLASSES,
                                      TASKS, NYUv2MultiTaskDataset,
                                      check_tasks)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'NYUV2_13_CLASSES', 'NYUV2_40_CLASSES', 'NYUv2MultiTaskDataset', 'TASKS',
    'check_tasks'
]
