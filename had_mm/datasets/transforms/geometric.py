"""Geometric transforms that keep every task label consistent.

Label maps are never interpolated (nearest neighbour), so no value is mixed
across invalid depth pixels, object boundaries or the ignore index.
"""
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from had_mm.registry import TRANSFORMS
from had_mm.tasks import label_tasks

Scales = Union[Sequence[float], float]


def _resize_labels(results: dict, size_wh: Tuple[int, int]) -> None:
    for key in label_tasks():
        if key in results:
            results[key] = mmcv.imresize(
                results[key], size_wh, interpolation='nearest')


def scale_crop_size(height: int, width: int, scale: float) -> Tuple[int, int]:
    """The ``(h, w)`` window that :class:`MultiTaskRandomScaleCrop` crops
    from a ``height x width`` image to zoom in by ``scale`` (also used by
    the pseudo-label cache to follow the crop).

    Args:
        height (int): Image height.
        width (int): Image width.
        scale (float): Zoom factor (>= 1).

    Returns:
        tuple[int, int]: Window height and width.
    """
    return (max(1,
                int(round(height / scale))), max(1, int(round(width / scale))))


@TRANSFORMS.register_module()
class MultiTaskResize(BaseTransform):
    """Resize the image (bilinear) and all labels (nearest) to ``scale``.

    Args:
        scale (tuple[int, int]): Output ``(height, width)``.
    """

    def __init__(self, scale: Tuple[int, int]) -> None:
        self.scale = tuple(scale)

    def transform(self, results: dict) -> dict:
        h, w = self.scale
        old_h, old_w = results['img'].shape[:2]
        results['img'] = mmcv.imresize(results['img'], (w, h))
        _resize_labels(results, (w, h))
        results['img_shape'] = (h, w)
        results['scale_factor'] = (w / old_w, h / old_h)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scale={self.scale})'


@TRANSFORMS.register_module()
class MultiTaskRandomFlip(BaseTransform):
    """Horizontal flip of the image and every label.

    A horizontal flip mirrors the scene, so the x component (camera frame)
    of each surface normal changes sign (the ``flip_negate_channel`` of a
    task's spec).

    Args:
        prob (float): Flip probability.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.prob)
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        if not flip:
            return results
        results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
        for key, spec in label_tasks().items():
            if key in results:
                results[key] = np.ascontiguousarray(results[key][:, ::-1])
                # a mirrored scene: e.g. the x component of a normal
                if spec.flip_negate_channel is not None:
                    results[key][..., spec.flip_negate_channel] *= -1
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class MultiTaskRandomScaleCrop(BaseTransform):
    """Zoom in by a random scale and crop back to the input size.

    The HAD reference augmentation: pick ``s`` from ``scales``, crop a random
    ``H/s x W/s`` window and resize it to ``H x W``. Zooming in by ``s``
    brings the scene ``s`` times closer, so depth is divided by ``s``
    (invalid depth stays 0; the labels of tasks whose spec has
    ``zoom_divides``).

    Args:
        scales (Sequence[float]): Candidate zoom factors (>= 1).
    """

    def __init__(self, scales: Scales = (1.0, 1.2, 1.5)) -> None:
        scales = [scales] if isinstance(scales, (int, float)) else scales
        if not scales or min(scales) < 1:
            raise ValueError(f'scales must be >= 1, got {scales}')
        self.scales = tuple(float(s) for s in scales)

    def transform(self, results: dict) -> dict:
        s = self.scales[np.random.randint(len(self.scales))]
        h, w = results['img'].shape[:2]
        ch, cw = scale_crop_size(h, w, s)
        y0 = np.random.randint(h - ch + 1)
        x0 = np.random.randint(w - cw + 1)
        results['img'] = mmcv.imresize(results['img'][y0:y0 + ch, x0:x0 + cw],
                                       (w, h))
        labels = label_tasks()
        for key in labels:
            if key in results:
                results[key] = results[key][y0:y0 + ch, x0:x0 + cw]
        _resize_labels(results, (w, h))
        for key, spec in labels.items():
            if key in results and spec.zoom_divides:
                results[key] = results[key] / s
        results['scale_crop'] = (s, y0, x0)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(scales={self.scales})'
