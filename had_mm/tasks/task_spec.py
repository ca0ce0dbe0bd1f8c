"""The task table: one registered :class:`TaskSpec` per dense task type.

Every module that needs to know something about a task (its label field,
pad value, primary metric, pseudo-label rule...) asks the table through
:func:`get_task` instead of keeping its own list, so that a task type
registered from another package (see ``projects/edge_task``) is known to
the dataset, transforms, data preprocessor, predictor, metric and
distillation losses at once.

A task type is a :class:`TaskSpec` subclass registered in
:data:`had_mm.registry.TASKS` under its task name::

    @TASKS.register_module(name='edge')
    class EdgeTask(TaskSpec):
        name = 'edge'
        ...
"""
import difflib
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from had_mm.registry import TASKS

#: Pseudo-label value of a pixel whose teacher output is not finite (same
#: value as the ground-truth ignore index of semantic / saliency).
PSEUDO_IGNORE_INDEX = 255

#: The kinds of per-pixel distillation HAD knows (see ``distill_kind``).
DISTILL_KINDS = ('classification', 'regression', 'normal', 'binary')


def upcast_half(x: Tensor) -> Tensor:
    """Cast a float16 / bfloat16 tensor to float32 (others unchanged).

    Losses sum over millions of pixels, which overflows half precision
    under mixed-precision training.

    Args:
        x (Tensor): Any tensor.

    Returns:
        Tensor: ``x`` in at least float32 precision if it is a half type.
    """
    if x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def squeeze_channel(x: Tensor) -> Tensor:
    """``B x 1 x H x W`` -> ``B x H x W``; ``B x H x W`` unchanged.

    Args:
        x (Tensor): A one-channel map, with or without the channel axis.

    Returns:
        Tensor: The map without the channel axis.
    """
    return x[:, 0] if x.dim() == 4 else x


class TaskSpec:
    """What had_mm needs to know about one dense task type.

    Subclasses set the class attributes and implement
    :meth:`pseudo_label` and :meth:`distill_map`; they are registered in
    :data:`had_mm.registry.TASKS` under :attr:`name`. Specs are stateless:
    :func:`get_task` returns one shared instance per task.

    Attributes:
        name (str): Task name used in configs (``tasks=[...]``, phases,
            ``heads`` keys, metric key prefix).
        label_key (str): Key of the label map in the transforms' results
            dict (``H x W`` or ``H x W x C`` numpy array).
        label_field (str): Field of the packed ``SegDataSample`` holding the
            ``C x H x W`` label tensor.
        label_dtype (str): numpy dtype the label is packed as.
        pred_field (str): Field of the ``SegDataSample`` holding the
            prediction.
        out_channels (int | None): Raw output channels of the task's head;
            None: the number of classes.
        pad_value (float): Label value written where a pad or crop has no
            data.
        ignore_value (float): Label value of an invalid pixel.
        invalid_desc (str): What an invalid label pixel is, for messages.
        flip_negate_channel (int | None): Label channel whose sign a
            horizontal flip changes (normal: x), or None.
        zoom_divides (bool): Whether the label is divided by the zoom of a
            scale-crop (depth: the scene comes closer).
        primary_metric (str): Name of the task's primary metric (key
            ``f'{name}/{primary_metric}'`` of :class:`MultiTaskMetric`).
        primary_direction (int): +1 if higher is better, -1 if lower.
        metric_type (str): Registered name (``had_mm.registry.METRICS``) of
            the per-task metric.
        distill_kind (str): How HAD balances and reduces the task's
            distillation, one of :data:`DISTILL_KINDS`: 'classification'
            (per-class balancing over ``C`` classes), 'binary' (two
            classes from a 0/1 pseudo-label), 'regression' (value bins of
            a one-channel output) or 'normal' (value bins on the channel
            mean of unit vectors).
        label_source (str | None): Task whose label file this task's label
            is derived from (the dataset gives it that file), or None.
        missing_hint (str): Appended to the error of a missing label file.
        unit (str): Unit of a one-channel regression map (depth: 'm'), for
            the colour bars of pictures; '' if it has none.
    """

    name: str = ''
    label_key: str = ''
    label_field: str = ''
    label_dtype: str = 'float32'
    pred_field: str = ''
    out_channels: Optional[int] = 1
    pad_value: float = 0
    ignore_value: float = 0
    invalid_desc: str = ''
    flip_negate_channel: Optional[int] = None
    zoom_divides: bool = False
    primary_metric: str = ''
    primary_direction: int = +1
    metric_type: str = ''
    distill_kind: str = 'regression'
    label_source: Optional[str] = None
    missing_hint: str = ''
    unit: str = ''

    def output_problem(self, out: Tensor) -> Optional[str]:
        """What is wrong with ``out`` as this task's *task output*
        (activated, e.g. depth in metres), or None. A distillation loss
        asks, so that a raw pre-activation output is refused, not read.

        Args:
            out (Tensor): ``B x C x H x W`` output.

        Returns:
            str | None: e.g. ``'has negative values'``; None if it fits
            (default: anything fits).
        """
        return None

    def channels(self, num_classes: Optional[int] = None) -> int:
        """Raw output channels of the task's head.

        Args:
            num_classes (int, optional): Number of classes (tasks whose
                ``out_channels`` is None need it).

        Returns:
            int: The channels.
        """
        if self.out_channels is not None:
            return self.out_channels
        if num_classes is None:
            raise ValueError(f'task {self.name!r} has one channel per class: '
                             'num_classes is needed')
        return int(num_classes)

    def primary_key(self) -> str:
        """str: Full key of the primary metric, e.g. ``'depth/abs_err'``.
        """
        return f'{self.name}/{self.primary_metric}'

    def valid_mask(self, label: np.ndarray) -> np.ndarray:
        """Valid pixels of a loaded ``H x W`` (or ``H x W x C``) label.

        Args:
            label (np.ndarray): The label as the loader writes it.

        Returns:
            np.ndarray: ``H x W`` bool mask.
        """
        return label != self.ignore_value

    def metric_kwargs(self, num_classes: Optional[int],
                      class_names: Optional[Sequence[str]],
                      ignore_index: int) -> dict:
        """Arguments :class:`MultiTaskMetric` passes to the task's metric.

        Args:
            num_classes (int, optional): Number of semantic classes.
            class_names (Sequence[str], optional): Class names.
            ignore_index (int): Ignore value of class-like labels.

        Returns:
            dict: Keyword arguments (default: none).
        """
        return {}

    def load_label(self, path: str, results: dict) -> np.ndarray:
        """Load the label of ``path`` into ``results[self.label_key]``.

        Called by :class:`LoadMultiTaskAnnotations` for tasks it has no
        loader of its own for (tasks registered from other packages).

        Args:
            path (str): The label file (of ``label_source`` if set).
            results (dict): The transforms' results dict.

        Returns:
            np.ndarray: The loaded label (``H x W`` or ``H x W x C``).
        """
        raise NotImplementedError(
            f'task {self.name!r}: LoadMultiTaskAnnotations has no loader '
            'for it; implement TaskSpec.load_label')

    def renormalize(self, out: Tensor) -> Tensor:
        """Re-impose the output's constraint after a bilinear resize.

        Args:
            out (Tensor): ``B x C x H x W`` task output.

        Returns:
            Tensor: The same output (unit-vector tasks re-normalise).
        """
        return out

    def pseudo_label(self, teacher_out: Tensor) -> Tensor:
        """Pseudo-label from a detached raw teacher output.

        Where the teacher output is not finite the pseudo-label is
        :data:`PSEUDO_IGNORE_INDEX` (class-like tasks) or stays non-finite,
        so that :meth:`distill_map` masks it.

        Args:
            teacher_out (Tensor): Raw teacher head output, ``B x C x H x W``.

        Returns:
            Tensor: The pseudo-label.
        """
        raise NotImplementedError

    def distill_map(self, student_out: Tensor,
                    pseudo: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-pixel distillation loss and its valid mask.

        Args:
            student_out (Tensor): Raw student head output, at least float32.
            pseudo (Tensor): Detached pseudo-label of :meth:`pseudo_label`
                (any ground truth in the same format works too).

        Returns:
            tuple[Tensor, Tensor]: ``loss`` (``B x H x W``) and ``valid``
            (``B x H x W`` bool); the caller zeroes invalid pixels.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{type(self).__name__}(name={self.name!r})'


_INSTANCES: Dict[str, TaskSpec] = {}


def task_names() -> Tuple[str, ...]:
    """Names of every registered task type, built-ins first.

    Returns:
        tuple[str]: Task names in registration order (the canonical order
        of heads and metric keys).
    """
    TASKS.import_from_location()
    return tuple(TASKS.module_dict)


def _unknown_hint(names: Sequence[str]) -> str:
    """' (did you mean ...?)' for the first name with a close match."""
    known = task_names()
    for name in names:
        close = difflib.get_close_matches(str(name), known, n=1)
        if close:
            return f' (did you mean {close[0]!r}?)'
    return ''


def get_task(name: str) -> TaskSpec:
    """The spec of a registered task type.

    Args:
        name (str): Task name, e.g. ``'depth'``.

    Returns:
        TaskSpec: Its (shared) spec instance.

    Raises:
        ValueError: For an unknown name, listing the known ones.
    """
    TASKS.import_from_location()
    spec_cls = TASKS.module_dict.get(name) if isinstance(name, str) else None
    if spec_cls is None:
        raise ValueError(f'unknown task type {name!r}; known tasks are '
                         f'{", ".join(repr(t) for t in task_names())}'
                         f'{_unknown_hint([name])}')
    spec = _INSTANCES.get(name)
    # re-registered under the same name (force=True): a fresh instance
    if spec is None or type(spec) is not spec_cls:
        spec = _INSTANCES[name] = spec_cls()
    return spec


def check_tasks(tasks: Sequence[str], unique: bool = False) -> List[str]:
    """Validate task names; return them as a list.

    Args:
        tasks (str | Sequence[str]): One task name or several.
        unique (bool): Drop repeated names, keeping the first.

    Returns:
        list[str]: The task names.

    Raises:
        ValueError: For an unknown task or an empty list, naming the valid
            ones.
    """
    tasks = [tasks] if isinstance(tasks, str) else list(tasks)
    known = task_names()
    unknown = [t for t in tasks if t not in known]
    if unknown or not tasks:
        raise ValueError(f'unknown task(s) {unknown or tasks!r}; valid '
                         f'tasks are {", ".join(known)}'
                         f'{_unknown_hint(unknown)}')
    if unique:
        tasks = list(dict.fromkeys(tasks))
    return tasks


def primary_metrics(
        tasks: Optional[Sequence[str]] = None) -> Dict[str, Tuple[str, int]]:
    """Primary metric name and direction of tasks (a view of the table).

    Args:
        tasks (Sequence[str], optional): Task names; default: all.

    Returns:
        dict[str, tuple[str, int]]: ``{task: (metric name, +1 | -1)}``.
    """
    names = task_names() if tasks is None else check_tasks(tasks)
    return {
        t: (get_task(t).primary_metric, get_task(t).primary_direction)
        for t in names
    }


def label_tasks() -> Dict[str, TaskSpec]:
    """Spec of each label key (results dict), e.g. ``'gt_seg_map'``.

    Returns:
        dict[str, TaskSpec]: ``{label_key: spec}`` of every task.
    """
    return {get_task(t).label_key: get_task(t) for t in task_names()}
