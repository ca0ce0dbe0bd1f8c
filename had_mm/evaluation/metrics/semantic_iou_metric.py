import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from mmseg.evaluation import IoUMetric
from torch import Tensor

from had_mm.models.utils import resize_map
from had_mm.registry import METRICS
from .base_dense_metric import BaseDenseMetric


@METRICS.register_module()
class SemanticIoUMetric(BaseDenseMetric):
    """Semantic segmentation mIoU, pixel accuracy and per-class IoU.

    The counting is mmseg's: per sample the areas of
    :meth:`mmseg.evaluation.IoUMetric.intersect_and_union` (computed for a
    whole batch at once) and, over the whole set,
    :meth:`mmseg.evaluation.IoUMetric.total_area_to_metrics`.
    Areas are summed in float64 over the set (one confusion over the whole
    set, not a mean of per-image mIoUs). A class absent from both the
    predictions and the labels of the whole set has IoU NaN (0 / 0) and is
    left out of the mean (``nanmean``), as in mmseg.

    Unlike mmseg's ``IoUMetric`` the values are not rounded.

    Returned keys: ``mIoU`` (%), ``aAcc`` (pixel accuracy, %) and
    ``IoU.<class name>`` (%, NaN for an absent class).

    Args:
        num_classes (int, optional): Number of classes. Defaults to None:
            ``len(dataset_meta['classes'])``.
        class_names (Sequence[str], optional): Class names of the per-class
            keys. Defaults to None: ``dataset_meta['classes']``, else the
            class indices.
        ignore_index (int): Label value of ignored pixels. Defaults to 255.
        log_per_class (bool): Log a per-class IoU line at compute time.
            Defaults to False.
        **kwargs: ``collect_device``, ``prefix`` and ``collect_dir`` of
            mmengine's ``BaseMetric``.

    Raises:
        ValueError: At compute time, when no label pixel of the whole set is
            valid.
    """

    pred_key = 'pred_sem_seg'
    gt_key = 'gt_sem_seg'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 class_names: Optional[Sequence[str]] = None,
                 ignore_index: int = 255,
                 log_per_class: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if class_names is not None:
            class_names = tuple(str(c) for c in class_names)
            if num_classes is not None and num_classes != len(class_names):
                raise ValueError(
                    f'num_classes={num_classes} but {len(class_names)} '
                    'class_names were given')
        self._num_classes = num_classes
        self._class_names = class_names
        self.ignore_index = ignore_index
        self.log_per_class = log_per_class

    @property
    def num_classes(self) -> int:
        """int: The number of classes (argument, names or dataset meta)."""
        if self._num_classes is not None:
            return int(self._num_classes)
        if self._class_names is not None:
            return len(self._class_names)
        meta = self.dataset_meta or {}
        if meta.get('classes'):
            return len(meta['classes'])
        raise ValueError('SemanticIoUMetric needs num_classes, class_names '
                         "or dataset_meta['classes']")

    @property
    def class_names(self) -> List[str]:
        """list[str]: Names of the per-class keys."""
        if self._class_names is not None:
            return list(self._class_names)
        meta = self.dataset_meta or {}
        classes = meta.get('classes')
        if classes and len(classes) == self.num_classes:
            return [str(c) for c in classes]
        return [str(i) for i in range(self.num_classes)]

    def process_batch(self, preds: Tensor, gts: Tensor) -> List[np.ndarray]:
        """Areas of each sample of a batch.

        The counts of mmseg's ``IoUMetric.intersect_and_union`` (pixels
        with the ignore label and class indices outside ``[0, C)`` are not
        counted), for the whole batch with one ``bincount`` per area.

        Args:
            preds (Tensor): Predicted class maps, ``B x 1 x H x W`` (long).
            gts (Tensor): Label maps, ``B x 1 x H x W``; ``ignore_index``
                ignored.

        Returns:
            list[np.ndarray]: Per sample, float64 ``4 x C``: intersection,
            union, predicted and label areas per class.
        """
        num = gts.shape[0]
        size = tuple(gts.shape[-2:])
        pred = resize_map(
            preds.reshape(num, *preds.shape[-2:]), size,
            'nearest').to(gts.device).long()
        label = gts.reshape(num, *size).long()
        c = self.num_classes
        counted = label != self.ignore_index
        in_pred = counted & (pred >= 0) & (pred < c)
        in_label = counted & (label >= 0) & (label < c)
        offset = torch.arange(num, device=label.device)[:, None, None] * c

        def area(values: Tensor, mask: Tensor) -> Tensor:
            return torch.bincount(
                (values + offset)[mask], minlength=num * c).reshape(num, c)

        intersect = area(pred, in_pred & (pred == label))
        area_pred = area(pred, in_pred)
        area_label = area(label, in_label)
        union = area_pred + area_label - intersect
        areas = torch.stack([intersect, union, area_pred, area_label], 1)
        return list(areas.to(torch.float64).cpu().numpy())

    def compute_from(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Semantic metrics of the whole set.

        Args:
            results (list[np.ndarray]): Outputs of :meth:`process_batch`.

        Returns:
            dict[str, float]: ``mIoU``, ``aAcc`` and ``IoU.<class>`` in %.

        Raises:
            ValueError: When the set holds no valid label pixel.
        """
        total = np.zeros((4, self.num_classes), dtype=np.float64)
        for r in results:
            total += r
        if total[3].sum() <= 0:
            raise ValueError('no valid semantic pixel in the evaluation set; '
                             'check gt_sem_seg')
        ret = IoUMetric.total_area_to_metrics(
            *[torch.from_numpy(t) for t in total], metrics=['mIoU'])
        iou = np.asarray(ret['IoU'], dtype=np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', category=RuntimeWarning)
            miou = np.nanmean(iou)
        metrics = dict(
            mIoU=float(100.0 * miou), aAcc=float(100.0 * ret['aAcc']))
        names = self.class_names
        for name, value in zip(names, iou):
            metrics[f'IoU.{name}'] = float(100.0 * value)
        if self.log_per_class:
            per_class = ', '.join(f'{n}: {100.0 * v:.2f}'
                                  for n, v in zip(names, iou))
            print_log(f'per-class IoU: {per_class}', logger='current')
        return metrics
