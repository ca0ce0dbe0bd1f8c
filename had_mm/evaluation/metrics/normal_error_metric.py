from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from had_mm.models.utils.unit_normalize import unit_cosine
from had_mm.registry import METRICS
from .base_dense_metric import BaseDenseMetric, resize_batch


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

    def process_batch(self, preds: Tensor,
                      gts: Tensor) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Angles and sums of each sample of a batch.

        Args:
            preds (Tensor): Predicted normals, ``B x 3 x H x W``.
            gts (Tensor): Ground-truth normals, ``B x 3 x H x W``; a zero
                (or non-finite) vector marks an invalid pixel.

        Returns:
            list[tuple[np.ndarray, np.ndarray]]: Per sample, the float32
            angles (degrees) of its valid pixels, and float64 ``[sum of
            angles, count valid, count below each threshold...]``.
        """
        preds = resize_batch(preds, tuple(gts.shape[-2:]), 'bilinear')
        num = gts.shape[0]
        g = gts.to(torch.float64).reshape(num, gts.shape[1], -1)
        p = preds.to(device=g.device, dtype=torch.float64)
        p = p.reshape(num, p.shape[1], -1)
        valid = torch.isfinite(g).all(1) & (g.abs().sum(1) > 0)
        # <p/|p|, g/|g|> from channel sums, without normalising both maps;
        # a zero prediction gives cos 0 (90 degrees). The float64 eps
        # leaves every non-zero vector its true direction.
        cos = unit_cosine(p, g, eps=1e-150).clamp(-1.0, 1.0)
        angles = torch.rad2deg(torch.arccos(cos))
        angles = torch.where(valid, angles, torch.zeros_like(angles))
        thresholds = angles.new_tensor(self.thresholds)
        below = (angles[..., None] < thresholds) & valid[..., None]
        stats = torch.cat([
            angles.sum(1, keepdim=True),
            valid.sum(1, keepdim=True).to(torch.float64),
            below.sum(1).to(torch.float64)
        ], 1).cpu().numpy()
        counts = valid.sum(1).tolist()
        flat = angles[valid].to(torch.float32).cpu().numpy()
        per_sample = np.split(flat, np.cumsum(counts)[:-1])
        return list(zip(per_sample, stats))

    def compute_from(
            self, results: List[Tuple[np.ndarray,
                                      np.ndarray]]) -> Dict[str, float]:
        """Normal metrics of the whole set.

        Args:
            results (list[tuple]): Outputs of :meth:`process_batch`.

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
