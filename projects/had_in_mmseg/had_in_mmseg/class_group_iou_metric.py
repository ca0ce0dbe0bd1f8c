from typing import Dict, Optional, Sequence

import numpy as np
from mmseg.evaluation import IoUMetric

from had_mm.registry import METRICS


@METRICS.register_module()
class ClassGroupIoUMetric(IoUMetric):
    """mmseg's :class:`IoUMetric` plus the mIoU of groups of classes.

    Next to ``aAcc``, ``mIoU`` and ``mAcc`` (as ``IoUMetric``), reports
    ``mIoU_<group>`` for every group: the mean IoU (%) over the group's
    classes that occur in the ground truth or the predictions (the mean
    ignores NaN, as mmseg's ``mIoU``). :class:`ClassIncrementalTrainLoop`
    sets the groups from its phases.

    Args:
        class_groups (dict[str, Sequence[int]], optional): Group name to
            class indices. Defaults to None (no group metrics until
            :meth:`set_class_groups`).
        **kwargs: Arguments of :class:`IoUMetric`.
    """

    def __init__(self,
                 class_groups: Optional[Dict[str, Sequence[int]]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.class_groups: Dict[str, list] = {}
        self.set_class_groups(class_groups or {})

    def set_class_groups(self, class_groups: Dict[str, Sequence[int]]) -> None:
        """Set the groups to report.

        Args:
            class_groups (dict[str, Sequence[int]]): Group name to class
                indices.
        """
        self.class_groups = {
            str(k): [int(c) for c in v]
            for k, v in class_groups.items()
        }

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute ``IoUMetric``'s metrics and the group mIoUs.

        Args:
            results (list): Per-batch ``(intersect, union, pred, label)``
                areas, as collected by :meth:`IoUMetric.process`.

        Returns:
            dict[str, float]: The metrics, in %.
        """
        metrics = super().compute_metrics(results)
        if not self.class_groups or not results:
            return metrics
        areas = tuple(zip(*results))
        intersect = sum(areas[0]).double().cpu().numpy()
        union = sum(areas[1]).double().cpu().numpy()
        with np.errstate(invalid='ignore', divide='ignore'):
            iou = intersect / union
        for name, classes in self.class_groups.items():
            values = iou[classes]
            values = values[~np.isnan(values)]
            value = float(values.mean()) * 100 if values.size else np.nan
            metrics[f'mIoU_{name}'] = float(np.round(value, 2))
        return metrics
