from typing import Dict, List

import numpy as np
import torch
from torch import Tensor

from had_mm.models.utils import resize_map
from had_mm.registry import METRICS
from .base_dense_metric import BaseDenseMetric


@METRICS.register_module()
class DepthErrorMetric(BaseDenseMetric):
    """Depth errors over all valid pixels of the evaluation set.

    A pixel is valid where the ground truth is finite and ``> 0``. For every
    sample the metric accumulates (in float64) the sums over valid pixels of
    ``|d - d*|``, ``|d - d*| / d*`` and ``(d - d*)^2``, the number of pixels
    with ``max(d / d*, d* / d) < 1.25`` and the number of valid pixels; the
    sums are divided once over the whole set (a pixel-weighted mean, not a
    mean of per-image values). A non-positive prediction never counts for
    ``delta1``.

    Returned keys: ``abs_err`` (same unit as the maps, metres), ``rel_err``
    (ratio), ``rmse`` (``sqrt`` of the set's mean squared error) and
    ``delta1`` (%).

    Args:
        delta_thr (float): Ratio threshold of ``delta1``. Defaults to 1.25.
        **kwargs: ``collect_device``, ``prefix`` and ``collect_dir`` of
            mmengine's ``BaseMetric``.

    Raises:
        ValueError: At compute time, when no pixel of the whole set is valid
            (``'no valid depth pixel in the evaluation set; check
            gt_depth_map'``), rather than returning NaNs.
    """

    pred_key = 'pred_depth_map'
    gt_key = 'gt_depth_map'

    def __init__(self, delta_thr: float = 1.25, **kwargs) -> None:
        super().__init__(**kwargs)
        self.delta_thr = float(delta_thr)

    def process_batch(self, preds: Tensor, gts: Tensor) -> List[np.ndarray]:
        """Sums of each sample of a batch over its valid pixels.

        Args:
            preds (Tensor): Predicted depth, ``B x 1 x H x W`` (or ``B x H x
                W``).
            gts (Tensor): Ground-truth depth, same layout; 0 or non-finite
                marks an invalid pixel.

        Returns:
            list[np.ndarray]: Per sample, float64 ``[sum |d-d*|, sum
            |d-d*|/d*, sum (d-d*)^2, count delta1, count valid]``.
        """
        preds = resize_map(
            preds, gts.shape[-2:], 'bilinear', dtype=torch.float32)
        num = gts.shape[0]
        g = gts.to(torch.float64).reshape(num, -1)
        d = preds.to(device=g.device, dtype=torch.float64).reshape(num, -1)
        valid = torch.isfinite(g) & (g > 0)
        g = torch.where(valid, g, torch.ones_like(g))
        diff = torch.where(valid, (d - g).abs(), torch.zeros_like(g))
        ratio = torch.maximum(d / g, g / d)
        within = valid & (d > 0) & (ratio < self.delta_thr)
        sums = torch.stack([
            diff.sum(1), (diff / g).sum(1), (diff * diff).sum(1),
            within.sum(1).to(torch.float64),
            valid.sum(1).to(torch.float64)
        ], 1)
        return list(sums.cpu().numpy())

    def compute_from(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Depth metrics of the whole set.

        Args:
            results (list[np.ndarray]): Outputs of :meth:`process_batch`.

        Returns:
            dict[str, float]: ``abs_err``, ``rel_err``, ``rmse``, ``delta1``.

        Raises:
            ValueError: When the set holds no valid depth pixel.
        """
        total = np.zeros(5, dtype=np.float64)
        for r in results:
            total += r
        abs_sum, rel_sum, sq_sum, within, n = total
        if n <= 0:
            raise ValueError('no valid depth pixel in the evaluation set; '
                             'check gt_depth_map')
        return dict(
            abs_err=float(abs_sum / n),
            rel_err=float(rel_sum / n),
            rmse=float(np.sqrt(sq_sum / n)),
            delta1=float(100.0 * within / n))
