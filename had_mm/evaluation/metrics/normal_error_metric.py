import math
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from had_mm.models.utils import resize_map
from had_mm.registry import METRICS
from had_mm.tasks.unit_vectors import unit_cosine
from .base_dense_metric import BaseDenseMetric

MEDIAN_MODES = ('histogram', 'exact')


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


def _histogram_median(hist: np.ndarray, width: float) -> float:
    """Median of the values counted in a histogram of bins ``width`` wide
    from 0: the centre of the middle value's bin (the mean of the two
    middle values' centres for an even count), within ``width / 2`` of
    the exact median.

    Args:
        hist (np.ndarray): Counts per bin, non-empty in total.
        width (float): Bin width.

    Returns:
        float: The median estimate.
    """
    n = int(hist.sum())
    ends = np.cumsum(hist)
    # 0-based ranks of the middle value(s)
    ranks = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    centres = [(np.searchsorted(ends, r, side='right') + 0.5) * width
               for r in ranks]
    return float(np.mean(centres))


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

    The median is streamed by default (``median='histogram'``): each
    sample keeps a histogram of its angles over ``[0, 180]`` degrees with
    bins of ``median_bin`` degrees (18000 uint32 counts, 72 KB, whatever
    the image size), and the median is the centre of the bin holding the
    middle angle (the mean of the two centres for an even count), so it is
    within ``median_bin / 2`` degrees (0.005 by default) of the exact
    median. ``median='exact'`` keeps every valid angle as float32 instead
    (4 bytes per valid pixel: about 0.8 GB for the 654 NYUv2 test images at
    480 x 640, gathered on one rank under DDP) and takes the median of all
    of them (to the float32 rounding of the angles, about 1e-6 degree).
    The mean and the ``within`` counts are accumulated in float64 per
    sample in both modes.

    Args:
        thresholds (Sequence[float]): Angles (degrees) of the ``within``
            keys. Defaults to ``(11.25, 22.5, 30)``.
        median (str): ``'histogram'`` (streamed, bounded error) or
            ``'exact'``. Defaults to ``'histogram'``.
        median_bin (float): Bin width (degrees) of the histogram median;
            its error bound is half of it. Defaults to 0.01.
        **kwargs: ``collect_device``, ``prefix`` and ``collect_dir`` of
            mmengine's ``BaseMetric``.

    Raises:
        ValueError: At compute time, when no pixel of the whole set is valid.
    """

    pred_key = 'pred_normal'
    gt_key = 'gt_normal'

    def __init__(self,
                 thresholds: Sequence[float] = (11.25, 22.5, 30),
                 median: str = 'histogram',
                 median_bin: float = 0.01,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if median not in MEDIAN_MODES:
            raise ValueError(f'NormalErrorMetric: median must be one of '
                             f'{", ".join(map(repr, MEDIAN_MODES))}, got '
                             f'{median!r}')
        if not 0 < median_bin <= 180:
            raise ValueError(f'NormalErrorMetric: median_bin must be in (0, '
                             f'180] degrees, got {median_bin!r}')
        self.thresholds = tuple(float(t) for t in thresholds)
        self.median = median
        self.median_bin = float(median_bin)
        self.num_bins = int(math.ceil(180.0 / self.median_bin))

    def process_batch(self, preds: Tensor,
                      gts: Tensor) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Angles and sums of each sample of a batch.

        Args:
            preds (Tensor): Predicted normals, ``B x 3 x H x W``.
            gts (Tensor): Ground-truth normals, ``B x 3 x H x W``; a zero
                (or non-finite) vector marks an invalid pixel.

        Returns:
            list[tuple[np.ndarray, np.ndarray]]: Per sample, the uint32
            histogram of its valid angles (``median='histogram'``) or the
            float32 angles (degrees) themselves (``'exact'``), and float64
            ``[sum of angles, count valid, count below each threshold...]``.
        """
        preds = resize_map(
            preds, gts.shape[-2:], 'bilinear', dtype=torch.float32)
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
        if self.median == 'histogram':
            bins = (angles / self.median_bin).floor().long().clamp_(
                0, self.num_bins - 1)
            # one bincount for the batch: sample i's bins at offset i * B
            bins = bins + torch.arange(
                num, device=bins.device)[:, None] * self.num_bins
            hist = torch.bincount(
                bins[valid], minlength=num * self.num_bins).reshape(
                    num, self.num_bins).to(torch.int32).cpu().numpy()
            return list(zip(hist.astype(np.uint32), stats))
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
        if self.median == 'histogram':
            hist = np.zeros(self.num_bins, dtype=np.int64)
            for counts, _ in results:
                hist += counts
            median = _histogram_median(hist, self.median_bin)
        else:
            median = _exact_median(np.concatenate([a for a, _ in results]))
        metrics = dict(mean=float(total[0] / n), median=median)
        for t, count in zip(self.thresholds, total[2:]):
            metrics[f'within_{t:g}'] = float(100.0 * count / n)
        return metrics
