"""A common base for the per-task dense-prediction metrics.

Every per-task metric splits its work into two plain methods so that
:class:`MultiTaskMetric` can reuse them without duplicating any math:

- ``process_batch(preds, gts)`` turns a batch of prediction / label pairs
  (stacked, one size) into one small *partial result* per sample (sums,
  counts or histograms, always on the CPU), with batched tensor operations:
  no Python loop over images and one device-to-host copy per batch;
- ``compute_from(results)`` reduces a list of partial results over the whole
  evaluation set into the final metric dict.

``process`` / ``compute_metrics`` (mmengine's :class:`BaseMetric` interface)
are thin wrappers around them. Results stay one per sample, so that
mmengine's distributed collection can drop the samples a distributed
sampler repeats.
"""
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from torch import Tensor


def get_pixel_data(data_sample: Any, key: str) -> Optional[Tensor]:
    """Read the tensor of a pixel-level field of a data sample.

    Args:
        data_sample (dict | SegDataSample): A data sample as a dict (what
            mmengine's Evaluator passes, ``SegDataSample.to_dict()``) or as a
            data element.
        key (str): Field name, e.g. ``'pred_depth_map'``.

    Returns:
        Tensor | None: ``data_sample[key]['data']``, or None when the sample
        has no such field.
    """
    if isinstance(data_sample, dict):
        item = data_sample.get(key)
    else:
        item = getattr(data_sample, key, None)
    if item is None:
        return None
    if isinstance(item, dict):
        return item.get('data')
    if isinstance(item, Tensor):
        return item
    return getattr(item, 'data', None)


def group_by_shape(preds: Sequence[Tensor],
                   gts: Sequence[Tensor]) -> List[List[int]]:
    """Indices of the pairs that can be stacked together.

    Args:
        preds (Sequence[Tensor]): Predictions.
        gts (Sequence[Tensor]): Labels, one per prediction.

    Returns:
        list[list[int]]: Groups of indices with one prediction shape,
        label shape and device each, in order of first appearance.
    """
    groups: Dict[tuple, List[int]] = {}
    for i, (pred, gt) in enumerate(zip(preds, gts)):
        key = (tuple(pred.shape), tuple(gt.shape), pred.device, gt.device)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


class BaseDenseMetric(BaseMetric):
    """Base class of the per-task dense metrics (not registered).

    Subclasses set ``pred_key`` / ``gt_key``, implement
    :meth:`process_batch` and :meth:`compute_from`, and pass mmengine's
    ``BaseMetric`` arguments on as ``**kwargs``:

    - ``collect_device`` (str): device used to collect results across
      ranks, ``'cpu'`` or ``'gpu'``; default ``'cpu'``;
    - ``prefix`` (str, optional): prefix mmengine adds to every key of the
      returned metrics;
    - ``collect_dir`` (str, optional): directory to collect results through
      the file system (``collect_device='cpu'`` only).
    """

    #: Field of the data sample holding the prediction.
    pred_key: str = ''
    #: Field of the data sample holding the ground truth.
    gt_key: str = ''

    @abstractmethod
    def process_batch(self, preds: Tensor, gts: Tensor) -> List[Any]:
        """Reduce a batch of prediction / label pairs to partial results.

        Args:
            preds (Tensor): Predictions of ``B`` samples, stacked.
            gts (Tensor): Their labels, stacked.

        Returns:
            list: ``B`` picklable partial results (on the CPU), one per
            sample.
        """

    def process_pairs(self, preds: Sequence[Tensor],
                      gts: Sequence[Tensor]) -> List[Any]:
        """Partial results of many pairs, batched by shape.

        Args:
            preds (Sequence[Tensor]): Predictions, one per sample.
            gts (Sequence[Tensor]): Labels, one per sample.

        Returns:
            list: One partial result per pair, in the input order.
        """
        results: List[Any] = [None] * len(preds)
        for idx in group_by_shape(preds, gts):
            parts = self.process_batch(
                torch.stack([preds[i] for i in idx]),
                torch.stack([gts[i] for i in idx]))
            for i, part in zip(idx, parts):
                results[i] = part
        return results

    @abstractmethod
    def compute_from(self, results: List[Any]) -> Dict[str, float]:
        """Reduce the partial results of a whole set to the metrics.

        Args:
            results (list): Partial results from :meth:`process_batch`.

        Returns:
            dict[str, float]: Metric name to value.
        """

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Process one batch of data samples.

        Samples without ``gt_key`` are skipped; a sample with a label but no
        prediction is an error.

        Args:
            data_batch (Any): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each a dict
                from ``SegDataSample.to_dict()``.
        """
        preds, gts = [], []
        for data_sample in data_samples:
            gt = get_pixel_data(data_sample, self.gt_key)
            if gt is None:
                continue
            pred = get_pixel_data(data_sample, self.pred_key)
            if pred is None:
                raise KeyError(f'{type(self).__name__}: a data sample has '
                               f"'{self.gt_key}' but no '{self.pred_key}'")
            preds.append(pred)
            gts.append(gt)
        self.results.extend(self.process_pairs(preds, gts))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the metrics from the processed results.

        Args:
            results (list): The processed results of every sample.

        Returns:
            dict[str, float]: The computed metrics.
        """
        return self.compute_from(results)
