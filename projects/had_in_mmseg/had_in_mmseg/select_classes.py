from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from had_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SelectClasses(BaseTransform):
    """Keep the labels of some classes; set every other label to ignore.

    The labels of a class-incremental phase: only the phase's own classes
    are annotated, old (and future) classes become ``ignore_index``. Put it
    after ``LoadAnnotations`` (it reads and writes ``gt_seg_map``, in the
    label space after ``reduce_zero_label``).

    Required Keys:

    - gt_seg_map

    Modified Keys:

    - gt_seg_map

    Args:
        classes (Sequence[int]): Class indices to keep.
        ignore_index (int): Value written for the other pixels. Defaults to
            255.
    """

    def __init__(self,
                 classes: Sequence[int],
                 ignore_index: int = 255) -> None:
        super().__init__()
        self.classes = [int(c) for c in classes]
        if not self.classes:
            raise ValueError('SelectClasses needs at least one class')
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        """Set the labels outside ``classes`` to ``ignore_index``.

        Args:
            results (dict): Result dict with ``gt_seg_map``.

        Returns:
            dict: The same dict, ``gt_seg_map`` relabelled.
        """
        gt = results['gt_seg_map']
        keep = np.isin(gt, self.classes)
        results['gt_seg_map'] = np.where(keep, gt, self.ignore_index).astype(
            gt.dtype, copy=False)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(classes={self.classes}, '
                f'ignore_index={self.ignore_index})')
