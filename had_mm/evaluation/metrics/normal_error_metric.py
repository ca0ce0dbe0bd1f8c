from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from had_mm.registry import METRICS
from .base_dense_metric import BaseDenseMetric, resize_to


def _exact_median(values: np.ndarray) -> float:
    """Median of a 1-D array without a float64 copy of it.

    Args:
        values (np.ndarray): Non-empty 1-D array.

    Returns:
        float: The middle value, or the float64 mean of the two middle
        values for an even count.
    """
    k = values.size // 2
    if values.size % 2:
        return float(np.partition(values, k)[k])
    part = np.partition(values, (k - 1, k))
    return float((np.float64(part[k - 1]) + np.float64(part[k])) / 2)


@METRICS.register_module()
class NormalErrorMetric(BaseDenseMetric):
    """Angular error of surface normals over the evaluation set.

    Both normals are unit-normalised and the angle is
    ``arccos(clip(<n, n*>, -1, 1))`` in degrees. A pixel is valid where the
    ground-truth normal is finite and not the zero vector. A zero predicted
    vector scores 90 degrees.

    Returned keys: ``mean`` and ``median`` angle (degrees) and
    ``within_<t>`` (% of valid pixels with angle strictly below ``t``) for
    every ``t`` of ``thresholds`` (default keys ``within_11.25``,
    ``within_22.5``, ``within_30``).

    The median is exact (to the float32 rounding of the angles, about 1e-6
    degree): every valid angle of the set is kept on the CPU as float32 (4
    bytes per valid pixel, e.g. about 0.8 GB for the 654 NYUv2 test images
    at 480 x 640) and the median (the mean of the two middle values for an
    even count) is taken once over all of them. The mean and the ``within``
    counts are accumulated in float64 per sample.

    Args:
        thresholds (Sequence[float]): Angles (degrees) of the ``within``
            keys. Defaults to ``(11.25, 22.5, 30)``.
        collect_device (str): Device used to collect results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the returned keys. Defaults to None.
        collect_dir (str, optional): Directory to collect results through
            the file system. Defaults to None.

    Raises:
        ValueError: At compute time, when no pixel of the whole set is valid.
    """

    pred_key = 'pred_normal'
    gt_key = 'gt_normal'

    def __init__(self,
                 thresholds: Sequence[float] = (11.25, 22.5, 30),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        self.thresholds = tuple(float(t) for t in thresholds)

    def process_sample(self, pred: Tensor,
                       gt: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """Angles and sums of one sample.

        Args:
            pred (Tensor): Predicted normals, ``3 x H x W``.
            gt (Tensor): Ground-truth normals, ``3 x H x W``; a zero (or
                non-finite) vector marks an invalid pixel.

        Returns:
            tuple[np.ndarray, np.ndarray]: float32 angles (degrees) of the
            valid pixels, and float64 ``[sum of angles, count valid,
            count below each threshold...]``.
        """
        pred = resize_to(pred, tuple(gt.shape[-2:]), 'bilinear')
        gt = gt.to(torch.float64).reshape(gt.shape[0], -1)
        pred = pred.to(device=gt.device, dtype=torch.float64)
        pred = pred.reshape(pred.shape[0], -1)
        valid = torch.isfinite(gt).all(0) & (gt.abs().sum(0) > 0)
        g, p = gt[:, valid], pred[:, valid]
        # <p/|p|, g/|g|> without normalising both maps; a zero prediction
        # gives cos 0 (90 degrees).
        norm = ((p * p).sum(0) * (g * g).sum(0)).sqrt()
        cos = (p * g).sum(0) / norm.clamp_min(1e-300)
        cos = cos.clamp(-1.0, 1.0)
        angles = torch.rad2deg(torch.arccos(cos))
        stats = [angles.sum(), valid.sum().to(torch.float64)]
        stats += [(angles < t).sum().to(torch.float64)
                  for t in self.thresholds]
        return (angles.to(torch.float32).cpu().numpy(),
                torch.stack(stats).cpu().numpy())

    def compute_from(
            self, results: List[Tuple[np.ndarray,
                                      np.ndarray]]) -> Dict[str, float]:
        """Normal metrics of the whole set.

        Args:
            results (list[tuple]): Outputs of :meth:`process_sample`.

        Returns:
            dict[str, float]: ``mean``, ``median`` and ``within_<t>``.

        Raises:
            ValueError: When the set holds no valid normal pixel.
        """
        total = np.zeros(2 + len(self.thresholds), dtype=np.float64)
        for _, stats in results:
            total += stats
        n = total[1]
        if n <= 0:
            raise ValueError('no valid normal pixel in the evaluation set; '
                             'check gt_normal')
        angles = np.concatenate([a for a, _ in results])
        metrics = dict(mean=float(total[0] / n), median=_exact_median(angles))
        for t, count in zip(self.thresholds, total[2:]):
            metrics[f'within_{t:g}'] = float(100.0 * count / n)
        return metrics
