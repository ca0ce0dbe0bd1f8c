from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from had_mm.models.utils import resize_map
from had_mm.registry import METRICS
from .base_dense_metric import BaseDenseMetric

#: Default thresholds 0.05, 0.10, ..., 0.95 (computed as k / 20 so that 0.5
#: is exact).
DEFAULT_SALIENCY_THRESHOLDS = tuple(k / 20.0 for k in range(1, 20))


@METRICS.register_module()
class SaliencyMetric(BaseDenseMetric):
    """Maximum F-measure and IoU of saliency maps over the evaluation set.

    A pixel is predicted salient at threshold ``t`` when ``p > t`` (strictly
    greater). A ground-truth pixel is valid when it is finite and not
    ``ignore_index``, and salient when its value is ``> 0.5`` (labels are
    ``{0, 1}``).

    TP / FP / FN are accumulated per threshold over the whole set, without a
    loop over thresholds: each valid pixel falls in one bucket (the number of
    thresholds strictly below its probability, ``torch.bucketize``), one
    ``bincount`` over (sample, gt class, bucket) per batch gives a
    histogram per sample, and the counts at every threshold follow from
    reverse cumulative sums.

    ``F_beta = (1 + beta^2) P R / (beta^2 P + R)`` with ``beta^2 = 0.3``;
    precision, recall, F and IoU whose denominator is 0 count as 0.

    Returned keys: ``max_f`` (% , max of ``F_beta`` over ``thresholds``) and
    ``iou`` (%, ``TP / (TP + FP + FN)`` at ``iou_thr``).

    Args:
        thresholds (Sequence[float], optional): Thresholds of the F-measure.
            Defaults to 0.05..0.95 step 0.05 (19 values).
        beta2 (float): ``beta^2`` of the F-measure. Defaults to 0.3.
        iou_thr (float): Threshold of the IoU. Defaults to 0.5.
        ignore_index (int): Ground-truth value of ignored pixels.
            Defaults to 255.
        **kwargs: ``collect_device``, ``prefix`` and ``collect_dir`` of
            mmengine's ``BaseMetric``.

    Raises:
        ValueError: At compute time, when no pixel of the whole set is valid.
    """

    pred_key = 'pred_saliency'
    gt_key = 'gt_saliency'

    def __init__(self,
                 thresholds: Optional[Sequence[float]] = None,
                 beta2: float = 0.3,
                 iou_thr: float = 0.5,
                 ignore_index: int = 255,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if thresholds is None:
            thresholds = DEFAULT_SALIENCY_THRESHOLDS
        if len(thresholds) == 0:
            raise ValueError('SaliencyMetric needs at least one threshold')
        self.thresholds = tuple(float(t) for t in thresholds)
        self.beta2 = float(beta2)
        self.iou_thr = float(iou_thr)
        self.ignore_index = ignore_index
        # Sorted, unique boundaries: the F thresholds plus the IoU one.
        self._boundaries = np.unique(
            np.asarray(self.thresholds + (self.iou_thr, ), dtype=np.float64))
        index = {b: i for i, b in enumerate(self._boundaries.tolist())}
        self._f_index = np.asarray([index[t] for t in self.thresholds])
        self._iou_index = index[self.iou_thr]

    def process_batch(self, preds: Tensor, gts: Tensor) -> List[np.ndarray]:
        """Histogram of each sample's valid pixels by bucket and gt class.

        Args:
            preds (Tensor): Saliency probabilities, ``B x 1 x H x W``.
            gts (Tensor): Labels, ``B x 1 x H x W``, ``{0, 1}``,
                ``ignore_index`` for ignored pixels.

        Returns:
            list[np.ndarray]: Per sample, int64 ``2 x (K + 1)`` counts (row
            0: background, row 1: salient; column ``b``: pixels with exactly
            ``b`` of the ``K`` boundaries strictly below their
            probability).
        """
        preds = resize_map(
            preds, gts.shape[-2:], 'bilinear', dtype=torch.float32)
        num = gts.shape[0]
        gt = gts.reshape(num, -1)
        pred = preds.to(device=gt.device, dtype=torch.float64)
        pred = pred.reshape(num, -1)
        gt_f = gt.to(torch.float64)
        valid = torch.isfinite(gt_f) & (gt_f != self.ignore_index)
        positive = (gt_f > 0.5).long()
        boundaries = torch.as_tensor(self._boundaries, device=gt.device)
        bucket = torch.bucketize(pred, boundaries, right=False)
        nb = len(self._boundaries) + 1
        # one bincount over (sample, gt class, bucket) for the whole batch
        sample = torch.arange(num, device=gt.device)[:, None]
        index = (bucket + nb * positive + 2 * nb * sample)[valid]
        hist = torch.bincount(index, minlength=2 * nb * num)
        return list(hist.reshape(num, 2, nb).cpu().numpy().astype(np.int64))

    def _counts(self, results: List[np.ndarray]) -> np.ndarray:
        """TP, FP, FN at every boundary.

        Args:
            results (list[np.ndarray]): Outputs of :meth:`process_batch`.

        Returns:
            np.ndarray: int64 ``3 x K`` (TP, FP, FN per boundary).
        """
        nb = len(self._boundaries) + 1
        hist = np.zeros((2, nb), dtype=np.int64)
        for r in results:
            hist += r
        if hist.sum() == 0:
            raise ValueError('no valid saliency pixel in the evaluation set; '
                             'check gt_saliency')
        # above[:, k] = pixels with bucket > k, i.e. predicted salient at
        # boundary k.
        above = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]
        tp, fp = above[1], above[0]
        fn = hist[1].sum() - tp
        return np.stack([tp, fp, fn])

    def compute_from(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Saliency metrics of the whole set.

        Args:
            results (list[np.ndarray]): Outputs of :meth:`process_batch`.

        Returns:
            dict[str, float]: ``max_f`` and ``iou`` in %.

        Raises:
            ValueError: When the set holds no valid saliency pixel.
        """
        tp, fp, fn = self._counts(results).astype(np.float64)
        precision = _safe_div(tp, tp + fp)
        recall = _safe_div(tp, tp + fn)
        f = _safe_div((1 + self.beta2) * precision * recall,
                      self.beta2 * precision + recall)
        k = self._iou_index
        iou = _safe_div(tp[k], tp[k] + fp[k] + fn[k])
        return dict(
            max_f=float(100.0 * f[self._f_index].max()),
            iou=float(100.0 * iou))


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Element-wise ``num / den`` with 0 where ``den == 0``.

    Args:
        num (np.ndarray): Numerator.
        den (np.ndarray): Denominator.

    Returns:
        np.ndarray: The quotient.
    """
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out
