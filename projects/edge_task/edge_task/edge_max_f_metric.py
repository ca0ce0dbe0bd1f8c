from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from had_mm.evaluation.metrics.base_dense_metric import BaseDenseMetric
from had_mm.models.utils import resize_map
from had_mm.registry import METRICS

#: Default thresholds 0.05, 0.10, ..., 0.95 (k / 20, so 0.5 is exact).
DEFAULT_EDGE_THRESHOLDS = tuple(k / 20.0 for k in range(1, 20))


@METRICS.register_module()
class EdgeMaxFMetric(BaseDenseMetric):
    """ODS-style maximum F-measure of edge maps over the evaluation set.

    At each threshold ``t`` a pixel is predicted an edge when its
    probability is ``>= t``. TP / FP / FN are summed over the whole set
    (one threshold for the data set, "optimal dataset scale") and
    ``F = 2 P R / (P + R)`` (0 where undefined); ``ods_f`` is the best F
    over the thresholds, ``ods_threshold`` where it is reached.

    Pixels are matched exactly, without the distance tolerance and
    bipartite matching of the BSDS benchmark: the labels here are derived
    exactly from the semantic maps (:func:`edges_from_semantic`), so a
    prediction one pixel off is a miss by construction. Compare numbers
    only with the same protocol.

    Args:
        thresholds (Sequence[float], optional): Thresholds. Defaults to
            0.05..0.95 step 0.05.
        ignore_index (int): Label value of ignored pixels. Defaults to 255.
        **kwargs: ``collect_device``, ``prefix`` and ``collect_dir`` of
            mmengine's ``BaseMetric``.
    """

    pred_key = 'pred_edge'
    gt_key = 'gt_edge'

    def __init__(self,
                 thresholds: Optional[Sequence[float]] = None,
                 ignore_index: int = 255,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        thresholds = DEFAULT_EDGE_THRESHOLDS if thresholds is None \
            else tuple(float(t) for t in thresholds)
        if not thresholds:
            raise ValueError('EdgeMaxFMetric needs at least one threshold')
        self.thresholds = thresholds
        self.ignore_index = ignore_index

    def process_batch(self, preds: Tensor, gts: Tensor) -> List[np.ndarray]:
        """TP, FP, FN of each sample at every threshold.

        Args:
            preds (Tensor): Edge probabilities, ``B x 1 x H x W``.
            gts (Tensor): Labels, ``B x 1 x H x W``, ``{0, 1}`` or
                ``ignore_index``.

        Returns:
            list[np.ndarray]: Per sample, int64 ``3 x K`` (TP, FP, FN).
        """
        preds = resize_map(
            preds, gts.shape[-2:], 'bilinear', dtype=torch.float32)
        num = gts.shape[0]
        gt = gts.reshape(num, 1, -1).to(torch.float64)
        pred = preds.to(device=gt.device, dtype=torch.float64)
        pred = pred.reshape(num, 1, -1)
        valid = torch.isfinite(gt) & (gt != self.ignore_index)
        edge = valid & (gt > 0.5)
        thr = torch.as_tensor(
            self.thresholds, dtype=torch.float64,
            device=gt.device).view(1, -1, 1)
        # B x K x N: predicted an edge at each threshold, valid pixels only
        hit = (pred >= thr) & valid
        tp = (hit & edge).sum(-1)
        fp = (hit & ~edge).sum(-1)
        fn = edge.sum(-1) - tp
        counts = torch.stack([tp, fp, fn], dim=1)  # B x 3 x K
        return list(counts.cpu().numpy().astype(np.int64))

    def compute_from(self, results: List[np.ndarray]) -> Dict[str, float]:
        """ODS F-measure of the whole set.

        Args:
            results (list[np.ndarray]): Outputs of :meth:`process_batch`.

        Returns:
            dict[str, float]: ``ods_f`` (%) and ``ods_threshold``.

        Raises:
            ValueError: When the set holds no edge pixel at all.
        """
        tp, fp, fn = np.sum(results, axis=0).astype(np.float64)
        if tp[0] + fn[0] == 0:
            raise ValueError('no edge pixel in the evaluation set; check '
                             'gt_edge (edges come from the semantic maps)')
        den_p, den_r = tp + fp, tp + fn
        precision = np.divide(
            tp, den_p, out=np.zeros_like(tp), where=den_p > 0)
        recall = tp / den_r
        den_f = precision + recall
        f = np.divide(
            2 * precision * recall,
            den_f,
            out=np.zeros_like(tp),
            where=den_f > 0)
        best = int(np.argmax(f))
        return dict(
            ods_f=float(100.0 * f[best]),
            ods_threshold=float(self.thresholds[best]))
