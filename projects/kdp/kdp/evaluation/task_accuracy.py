"""Top-1 accuracy per class-incremental task."""
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from had_mm.registry import METRICS


def _as_int(value) -> int:
    """An int from a tensor, array or number (first element)."""
    if isinstance(value, torch.Tensor):
        return int(value.reshape(-1)[0].item())
    return int(np.asarray(value).reshape(-1)[0])


@METRICS.register_module()
class TaskAccuracy(BaseMetric):
    """Top-1 accuracy (%) over all samples and per task.

    The task of a sample is its (remapped) ground-truth label divided by
    the classes per task (from ``classes_per_task`` or the data set's
    metainfo). Predictions are ``pred_label`` of the data samples (or the
    argmax of ``pred_score``), so class-incremental masking (no unseen
    classes) is the model's business.

    Returned keys: ``accuracy`` and ``accuracy_task_<t>`` (``t`` 1-based)
    for each task present in the evaluated data.

    Args:
        classes_per_task (int, optional): Classes per task. Defaults to
            None: ``dataset_meta['classes_per_task']``.
        collect_device (str): Device for collecting results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None: no prefix.
        output_dir (str, optional): Also write the predictions there, as
            ``predictions.csv`` (``index,prediction,label,task``, one row
            per test sample in data set order); what ``tools/test.py --out
            DIR`` sets. Defaults to None: no file.
    """

    default_prefix: Optional[str] = ''

    def __init__(self,
                 classes_per_task: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 output_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.classes_per_task = classes_per_task
        self.output_dir = output_dir

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store (prediction, label) of each sample.

        Args:
            data_batch: The batch (unused).
            data_samples (Sequence[DataSample | dict]): Model outputs with
                ``pred_label`` or ``pred_score`` and ``gt_label``.
        """
        for sample in data_samples:
            get = sample.get if isinstance(sample, dict) else \
                lambda k, s=sample: getattr(s, k, None)
            pred = get('pred_label')
            if pred is None:
                score = get('pred_score')
                if score is None:
                    raise KeyError('TaskAccuracy needs pred_label or '
                                   'pred_score in the model outputs')
                pred = torch.as_tensor(score).argmax()
            gt = get('gt_label')
            if gt is None:
                raise KeyError('TaskAccuracy needs gt_label in the data '
                               'samples')
            self.results.append((_as_int(pred), _as_int(gt)))

    def _classes_per_task(self) -> int:
        k = self.classes_per_task
        if k is None and self.dataset_meta:
            k = self.dataset_meta.get('classes_per_task')
        if not k:
            raise ValueError('TaskAccuracy needs classes_per_task, or a '
                             'data set whose metainfo has it')
        return int(k)

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """Accuracy (%) overall and per task.

        Args:
            results (list[tuple[int, int]]): (prediction, label) pairs.

        Returns:
            dict[str, float]: ``accuracy`` and ``accuracy_task_<t>``.
        """
        if not results:
            return dict(accuracy=float('nan'))
        pred, gt = (np.asarray(v) for v in zip(*results))
        correct = pred == gt
        out = dict(accuracy=float(100.0 * correct.mean()))
        task = gt // self._classes_per_task()
        if self.output_dir:
            self._write_predictions(pred, gt, task)
        for t in np.unique(task):
            out[f'accuracy_task_{int(t) + 1}'] = float(
                100.0 * correct[task == t].mean())
        return out

    def _write_predictions(self, pred: np.ndarray, gt: np.ndarray,
                           task: np.ndarray) -> None:
        """``<output_dir>/predictions.csv``: one row per sample."""
        os.makedirs(self.output_dir, exist_ok=True)
        path = os.path.join(self.output_dir, 'predictions.csv')
        with open(path, 'w') as f:
            f.write('index,prediction,label,task\n')
            for i, (p, g, t) in enumerate(zip(pred, gt, task)):
                f.write(f'{i},{int(p)},{int(g)},{int(t) + 1}\n')
