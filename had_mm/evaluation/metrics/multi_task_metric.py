import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log

from had_mm.registry import METRICS
from had_mm.tasks import BUILTIN_TASKS, check_tasks, get_task, task_names
from .base_dense_metric import BaseDenseMetric, get_pixel_data


def primary_key(task: str) -> str:
    """Full key of a task's primary metric, e.g. ``'semantic/mIoU'``.

    Args:
        task (str): A registered task name.

    Returns:
        str: ``f'{task}/{primary metric name}'``.
    """
    return get_task(task).primary_key()


def _check_tasks(tasks: Sequence[str]) -> Tuple[str, ...]:
    """Validate and de-duplicate task names, keeping their order.

    Args:
        tasks (Sequence[str]): Task names.

    Returns:
        tuple[str]: The unique task names.

    Raises:
        ValueError: On an unknown task or an empty list.
    """
    if not isinstance(tasks, str) and not list(tasks):
        raise ValueError('at least one task is needed; valid tasks are '
                         f'{", ".join(task_names())}')
    return tuple(check_tasks(tasks, unique=True))


@METRICS.register_module()
class MultiTaskMetric(BaseDenseMetric):
    """Evaluate every requested dense task with its own metric.

    Composition: one per-task metric object per task, of the type its spec
    names (``metric_type``: :class:`SemanticIoUMetric`,
    :class:`DepthErrorMetric`, :class:`NormalErrorMetric`,
    :class:`SaliencyMetric` for the built-in tasks); this class only routes
    each sample's fields to their ``process_pairs`` and the collected
    partial results to their ``compute_from``. Keys are prefixed by the task:
    ``semantic/mIoU``, ``semantic/aAcc``, ``semantic/IoU.<class>``,
    ``depth/abs_err``, ``depth/rel_err``, ``depth/rmse``, ``depth/delta1``,
    ``normal/mean``, ``normal/median``, ``normal/within_11.25``, ...,
    ``saliency/max_f``, ``saliency/iou``. The primary metric of each task
    and its direction are in the task table
    (:func:`~had_mm.tasks.primary_metrics`).

    For every requested task a sample must carry the prediction when it
    carries the label; a sample without the label of a task is skipped for
    that task. Every requested task needs at least one valid pixel in the
    set (the per-task metrics raise ``ValueError`` otherwise).

    The evaluated tasks can be changed between evaluations with
    :meth:`set_tasks` (the lifelong loop sets the tasks seen so far).

    Args:
        tasks (Sequence[str], optional): Tasks to evaluate, any registered
            task types. Defaults to None: semantic, depth, normal and
            saliency.
        num_classes (int, optional): Number of semantic classes. Defaults to
            None: from ``class_names`` or ``dataset_meta['classes']``.
        class_names (Sequence[str], optional): Semantic class names for the
            ``semantic/IoU.<class>`` keys. Defaults to None:
            ``dataset_meta['classes']``.
        ignore_index (int): Ignore value of the semantic and saliency labels.
            Defaults to 255.
        task_cfgs (dict, optional): Extra keyword arguments of a task's
            metric, e.g. ``dict(saliency=dict(beta2=0.3))``. Defaults to None.
        output_dir (str, optional): Also write each sample's predictions
            of the evaluated tasks there, as the inferencer does
            (:func:`~had_mm.apis.save_predictions`: ``<image
            stem>_semantic.png``, ``_depth.png`` and ``.npy``,
            ``_normal.png``, ``_saliency.png``); what ``tools/test.py
            --out DIR`` sets. Defaults to None: no files.
        format_only (bool): Only write the predictions (``output_dir``),
            compute no metric (a test set without labels), as mmseg's
            ``IoUMetric``. Defaults to False.
        keep_results (bool): Accepted for mmseg's ``tools/test.py --out``,
            which sets it; the files are always kept. Defaults to False.
        **kwargs: ``collect_device``, ``prefix`` (before the task prefix)
            and ``collect_dir`` of mmengine's ``BaseMetric``.
    """

    def __init__(self,
                 tasks: Optional[Sequence[str]] = None,
                 num_classes: Optional[int] = None,
                 class_names: Optional[Sequence[str]] = None,
                 ignore_index: int = 255,
                 task_cfgs: Optional[Dict[str, dict]] = None,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 keep_results: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if format_only and not output_dir:
            raise ValueError('MultiTaskMetric: format_only=True writes the '
                             'predictions only, so it needs an output_dir')
        self.output_dir = output_dir
        self.format_only = format_only
        self._written: Dict[str, int] = {}
        task_cfgs = dict(task_cfgs or {})
        _check_tasks(list(task_cfgs) or list(task_names()))
        self.num_classes = num_classes
        self.class_names = (
            tuple(class_names) if class_names is not None else None)
        self.ignore_index = ignore_index
        self.task_cfgs = task_cfgs
        self.task_metrics: Dict[str, BaseDenseMetric] = {}
        self.tasks: Tuple[str, ...] = ()
        self.set_tasks(tasks if tasks is not None else BUILTIN_TASKS)

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
        spec = get_task(task)
        kwargs: Dict[str, Any] = dict(prefix=task)
        kwargs.update(
            spec.metric_kwargs(self.num_classes, self.class_names,
                               self.ignore_index))
        kwargs.update(self.task_cfgs.get(task, {}))
        # get, not build: build would switch to the default scope's
        # registry, which may not see had_mm's (or a plugin's) metrics
        metric_cls = METRICS.get(spec.metric_type)
        if metric_cls is None:
            raise KeyError(f'task {task!r}: its metric type '
                           f'{spec.metric_type!r} is not registered in '
                           'had_mm.registry.METRICS')
        metric = metric_cls(**kwargs)
        metric.dataset_meta = self._dataset_meta
        return metric

    def set_tasks(self, tasks: Sequence[str]) -> None:
        """Set the tasks evaluated from now on.

        Meant to be called between evaluations; partial results still held
        (e.g. from an interrupted evaluation) are dropped with a warning.

        Args:
            tasks (Sequence[str]): Registered task names.

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

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Process one batch of data samples.

        Args:
            data_batch (Any): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each a dict
                from ``SegDataSample.to_dict()``.
        """
        if self.output_dir:
            self._write_predictions(data_samples)
        if not self.format_only:
            self.results.extend(self.process_batch(data_samples, data_samples))

    def _write_predictions(self, data_samples: Sequence[Any]) -> None:
        """Write the evaluated tasks' predictions of each sample to
        ``output_dir``, named after its image (a repeated name gets
        ``_<n>``, so that no file is overwritten)."""
        import os.path as osp

        from had_mm.apis.inference import sample_to_numpy, save_predictions
        palette = (self.dataset_meta or {}).get('palette')
        for index, sample in enumerate(data_samples):
            get = sample.get if isinstance(sample, dict) else \
                lambda k, s=sample: getattr(s, k, None)
            path = get('img_path')
            stem = osp.splitext(osp.basename(str(path)))[0] if path else \
                f'{len(self._written):08d}'
            count = self._written.get(stem, 0)
            self._written[stem] = count + 1
            name = stem if count == 0 else f'{stem}_{count}'
            preds = {
                task: pred
                for task, pred in sample_to_numpy(sample).items()
                if task in self.tasks
            }
            save_predictions(preds, self.output_dir, name, palette)

    def evaluate(self, size: int) -> dict:
        """mmengine's, or, with ``format_only``, the files only."""
        self._written = {}
        if self.format_only:
            print_log(
                f'MultiTaskMetric: predictions written to '
                f'{self.output_dir} (format_only: no metric computed)',
                logger='current')
            self.results.clear()
            return {}
        return super().evaluate(size)

    def compute_from(self, results: List[Dict[str, Any]]) -> Dict[str, float]:
        """Metrics of every evaluated task over the whole set.

        Args:
            results (list[dict]): Outputs of :meth:`process_batch`.

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
