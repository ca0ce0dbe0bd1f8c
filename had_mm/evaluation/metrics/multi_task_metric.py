import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log

from had_mm.registry import METRICS
from .base_dense_metric import BaseDenseMetric, get_pixel_data
from .depth_error_metric import DepthErrorMetric
from .normal_error_metric import NormalErrorMetric
from .saliency_metric import SaliencyMetric
from .semantic_iou_metric import SemanticIoUMetric

#: Primary metric of every task and its direction (+1: higher is better,
#: -1: lower is better). Keys of :class:`MultiTaskMetric` are
#: ``f'{task}/{name}'``.
PRIMARY_METRICS: Dict[str, Tuple[str, int]] = {
    'semantic': ('mIoU', +1),
    'depth': ('abs_err', -1),
    'normal': ('mean', -1),
    'saliency': ('max_f', +1),
}

#: Per-task metric class of every known task.
TASK_METRIC_TYPES = {
    'semantic': SemanticIoUMetric,
    'depth': DepthErrorMetric,
    'normal': NormalErrorMetric,
    'saliency': SaliencyMetric,
}

#: All known task names, in canonical order.
VALID_TASKS: Tuple[str, ...] = tuple(TASK_METRIC_TYPES)


def primary_key(task: str) -> str:
    """Full key of a task's primary metric, e.g. ``'semantic/mIoU'``.

    Args:
        task (str): A task name of :data:`VALID_TASKS`.

    Returns:
        str: ``f'{task}/{primary metric name}'``.
    """
    _check_tasks([task])
    return f'{task}/{PRIMARY_METRICS[task][0]}'


def _check_tasks(tasks: Sequence[str]) -> Tuple[str, ...]:
    """Validate and de-duplicate task names, keeping their order.

    Args:
        tasks (Sequence[str]): Task names.

    Returns:
        tuple[str]: The unique task names.

    Raises:
        ValueError: On an unknown task or an empty list.
    """
    if isinstance(tasks, str):
        tasks = [tasks]
    out: List[str] = []
    for task in tasks:
        if task not in TASK_METRIC_TYPES:
            raise ValueError(f'unknown task {task!r}; valid tasks are '
                             f'{", ".join(VALID_TASKS)}')
        if task not in out:
            out.append(task)
    if not out:
        raise ValueError('at least one task is needed; valid tasks are '
                         f'{", ".join(VALID_TASKS)}')
    return tuple(out)


@METRICS.register_module()
class MultiTaskMetric(BaseDenseMetric):
    """Evaluate every requested dense task with its own metric.

    Composition: one per-task metric object (:class:`SemanticIoUMetric`,
    :class:`DepthErrorMetric`, :class:`NormalErrorMetric`,
    :class:`SaliencyMetric`) per task; this class only routes each sample's
    fields to their ``process_sample`` and the collected partial results to
    their ``compute_from``. Keys are prefixed by the task:
    ``semantic/mIoU``, ``semantic/aAcc``, ``semantic/IoU.<class>``,
    ``depth/abs_err``, ``depth/rel_err``, ``depth/rmse``, ``depth/delta1``,
    ``normal/mean``, ``normal/median``, ``normal/within_11.25``, ...,
    ``saliency/max_f``, ``saliency/iou``. The primary metric of each task
    and its direction are in :data:`PRIMARY_METRICS`.

    For every requested task a sample must carry the prediction when it
    carries the label; a sample without the label of a task is skipped for
    that task. Every requested task needs at least one valid pixel in the
    set (the per-task metrics raise ``ValueError`` otherwise).

    The evaluated tasks can be changed between evaluations with
    :meth:`set_tasks` (the lifelong loop sets the tasks seen so far).

    Args:
        tasks (Sequence[str]): Tasks to evaluate, among ``'semantic'``,
            ``'depth'``, ``'normal'``, ``'saliency'``. Defaults to all four.
        num_classes (int, optional): Number of semantic classes. Defaults to
            None: from ``class_names`` or ``dataset_meta['classes']``.
        class_names (Sequence[str], optional): Semantic class names for the
            ``semantic/IoU.<class>`` keys. Defaults to None:
            ``dataset_meta['classes']``.
        ignore_index (int): Ignore value of the semantic and saliency labels.
            Defaults to 255.
        task_cfgs (dict, optional): Extra keyword arguments of a task's
            metric, e.g. ``dict(saliency=dict(beta2=0.3))``. Defaults to None.
        collect_device (str): Device used to collect results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the returned keys (before the task
            prefix). Defaults to None.
        collect_dir (str, optional): Directory to collect results through
            the file system. Defaults to None.
    """

    def __init__(self,
                 tasks: Sequence[str] = VALID_TASKS,
                 num_classes: Optional[int] = None,
                 class_names: Optional[Sequence[str]] = None,
                 ignore_index: int = 255,
                 task_cfgs: Optional[Dict[str, dict]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        task_cfgs = dict(task_cfgs or {})
        _check_tasks(list(task_cfgs) or list(VALID_TASKS))
        self.num_classes = num_classes
        self.class_names = (
            tuple(class_names) if class_names is not None else None)
        self.ignore_index = ignore_index
        self.task_cfgs = task_cfgs
        self.task_metrics: Dict[str, BaseDenseMetric] = {}
        self.tasks: Tuple[str, ...] = ()
        self.set_tasks(tasks)

    @property
    def dataset_meta(self) -> Optional[dict]:
        """dict | None: Dataset meta, also handed to the task metrics."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        for metric in self.task_metrics.values():
            metric.dataset_meta = dataset_meta

    def _build_task_metric(self, task: str) -> BaseDenseMetric:
        """Build the metric of one task.

        Args:
            task (str): A valid task name.

        Returns:
            BaseDenseMetric: The task's metric object.
        """
        # The prefix is never applied (keys are prefixed here); it only keeps
        # mmengine from warning about a missing one.
        kwargs: Dict[str, Any] = dict(prefix=task)
        if task == 'semantic':
            kwargs.update(
                num_classes=self.num_classes,
                class_names=self.class_names,
                ignore_index=self.ignore_index)
        elif task == 'saliency':
            kwargs.update(ignore_index=self.ignore_index)
        kwargs.update(self.task_cfgs.get(task, {}))
        metric = TASK_METRIC_TYPES[task](**kwargs)
        metric.dataset_meta = self._dataset_meta
        return metric

    def set_tasks(self, tasks: Sequence[str]) -> None:
        """Set the tasks evaluated from now on.

        Meant to be called between evaluations; partial results still held
        (e.g. from an interrupted evaluation) are dropped with a warning.

        Args:
            tasks (Sequence[str]): Task names, see :data:`VALID_TASKS`.

        Raises:
            ValueError: On an unknown task name or an empty list.
        """
        tasks = _check_tasks(tasks)
        if self.results:
            print_log(
                f'MultiTaskMetric.set_tasks: dropping {len(self.results)} '
                'pending results',
                logger='current',
                level=logging.WARNING)
            self.results.clear()
        self.task_metrics = {
            task: (self.task_metrics[task] if task in self.task_metrics else
                   self._build_task_metric(task))
            for task in tasks
        }
        self.tasks = tasks

    def process_batch(self, preds: Any, gts: Any) -> List[Dict[str, Any]]:
        """Partial results of a batch of samples, per task.

        Each task's metric processes the batch's pairs of that task at
        once (:meth:`BaseDenseMetric.process_pairs`).

        Args:
            preds (Sequence[dict | SegDataSample]): The whole data samples
                (the same objects are expected as ``gts``).
            gts (Sequence[dict | SegDataSample]): The whole data samples.

        Returns:
            list[dict[str, Any]]: Per sample, task name to the task
            metric's partial result, for the tasks whose label it carries.

        Raises:
            KeyError: When a sample has a task's label but not its
                prediction.
        """
        partials: List[Dict[str, Any]] = [{} for _ in gts]
        for task, metric in self.task_metrics.items():
            rows, labels, predictions = [], [], []
            for i, (pred, gt) in enumerate(zip(preds, gts)):
                label = get_pixel_data(gt, metric.gt_key)
                if label is None:
                    continue
                prediction = get_pixel_data(pred, metric.pred_key)
                if prediction is None:
                    raise KeyError(
                        f"MultiTaskMetric: task '{task}' is evaluated and a "
                        f"data sample has '{metric.gt_key}' but no "
                        f"'{metric.pred_key}'")
                rows.append(i)
                labels.append(label)
                predictions.append(prediction)
            for i, part in zip(rows, metric.process_pairs(predictions,
                                                          labels)):
                partials[i][task] = part
        return partials

    def process_sample(self, pred: Any, gt: Any) -> Dict[str, Any]:
        """Partial results of one sample, per task.

        Args:
            pred (dict | SegDataSample): The whole data sample (the same
                object is expected as ``gt``).
            gt (dict | SegDataSample): The whole data sample.

        Returns:
            dict[str, Any]: Task name to the task metric's partial result,
            for the tasks whose label the sample carries.
        """
        return self.process_batch([pred], [gt])[0]

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Process one batch of data samples.

        Args:
            data_batch (Any): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each a dict
                from ``SegDataSample.to_dict()``.
        """
        self.results.extend(self.process_batch(data_samples, data_samples))

    def compute_from(self, results: List[Dict[str, Any]]) -> Dict[str, float]:
        """Metrics of every evaluated task over the whole set.

        Args:
            results (list[dict]): Outputs of :meth:`process_sample`.

        Returns:
            dict[str, float]: ``f'{task}/{name}'`` to value.

        Raises:
            ValueError: When no sample carried the label of a requested
                task, or a task's metric finds no valid pixel.
        """
        metrics: Dict[str, float] = {}
        for task, metric in self.task_metrics.items():
            partials = [r[task] for r in results if task in r]
            if not partials:
                raise ValueError(
                    f"MultiTaskMetric: task '{task}' is evaluated but no "
                    f"data sample carried '{metric.gt_key}'")
            for name, value in metric.compute_from(partials).items():
                metrics[f'{task}/{name}'] = value
        return metrics
