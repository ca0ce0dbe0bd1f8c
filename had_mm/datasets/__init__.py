from .nyuv2_classes import (NYUV2_13_CLASSES, NYUV2_13_PALETTE,
                            NYUV2_40_CLASSES, nyuv2_palette)
from .nyuv2_multitask_dataset import NYUv2MultiTaskDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'NYUV2_13_CLASSES', 'NYUV2_13_PALETTE', 'NYUV2_40_CLASSES',
    'NYUv2MultiTaskDataset', 'nyuv2_palette'
]
