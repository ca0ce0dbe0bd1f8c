"""Base class of the class-incremental classification data sets."""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset

from .class_split import (check_tasks, classes_per_task, make_class_order,
                          task_class_range)


class ClassIncrementalDataset(BaseDataset):
    """A classification data set split into class-incremental tasks.

    Subclasses implement :meth:`load_samples`, returning the samples (each
    a dict with ``img`` (an HxWx3 uint8 RGB array) or ``img_path``) with
    their original class indices, and :meth:`class_names`. This class
    remaps the labels through the class order (class ``class_order[i]``
    gets label ``i``, so task ``t`` holds labels ``[t * k, (t + 1) * k)``)
    and keeps the samples of the selected ``tasks``.

    Each data info holds ``gt_label`` (remapped), ``ori_label`` (original
    class index), ``task_id`` and the image (``img`` or ``img_path``). The
    metainfo holds ``classes`` (names in the remapped order),
    ``class_order``, ``num_tasks``, ``classes_per_task`` and ``tasks``.

    Args:
        num_tasks (int): Number of tasks; must divide the number of
            classes.
        class_order (Sequence[int], optional): Explicit class order, a
            permutation of all classes (checked; a clear error otherwise).
        class_order_seed (int, optional): Seed of a random class order when
            ``class_order`` is None. None: natural order. Defaults to None.
        tasks (int | Sequence[int], optional): Tasks to keep (0-based).
            None: all. Defaults to None.
        **kwargs: Arguments of :class:`mmengine.dataset.BaseDataset`
            (``data_root``, ``pipeline``, ``test_mode``, ``lazy_init``...).
    """

    def __init__(self,
                 num_tasks: int,
                 class_order: Optional[Sequence[int]] = None,
                 class_order_seed: Optional[int] = None,
                 tasks: Union[None, int, Sequence[int]] = None,
                 **kwargs) -> None:
        self.num_tasks = int(num_tasks)
        self._class_order_arg = (None
                                 if class_order is None else list(class_order))
        self.class_order_seed = class_order_seed
        self._tasks_arg = tasks
        # checked before any data is read, so bad splits fail fast
        names = list(self.class_names())
        self.num_classes = len(names)
        self.classes_per_task = classes_per_task(self.num_classes,
                                                 self.num_tasks)
        self.class_order = make_class_order(self.num_classes,
                                            self._class_order_arg,
                                            class_order_seed)
        self.tasks = check_tasks(tasks, self.num_tasks)
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo.update(
            classes=tuple(names[c] for c in self.class_order),
            class_order=list(self.class_order),
            num_tasks=self.num_tasks,
            classes_per_task=self.classes_per_task,
            tasks=list(self.tasks))
        super().__init__(metainfo=metainfo, **kwargs)

    # ------------------------------------------------------- subclass API
    def class_names(self) -> Sequence[str]:
        """Names of the classes in their original order.

        Returns:
            Sequence[str]: One name per class; its length is the number of
            classes.
        """
        raise NotImplementedError

    def load_samples(self) -> Tuple[List[dict], np.ndarray]:
        """Read the split's samples.

        Returns:
            tuple[list[dict], np.ndarray]: One dict per sample (``img`` or
            ``img_path``) and the original class index of each.
        """
        raise NotImplementedError

    # ------------------------------------------------------------ loading
    def task_classes(self, task: int) -> Tuple[int, int]:
        """Remapped label range of a task.

        Args:
            task (int): Task index (0-based).

        Returns:
            tuple[int, int]: ``[start, end)``.
        """
        return task_class_range(task, self.num_classes, self.num_tasks)

    def load_data_list(self) -> List[dict]:
        """Load the samples, remap their labels and keep the tasks' ones.

        Returns:
            list[dict]: The data infos.
        """
        samples, labels = self.load_samples()
        labels = np.asarray(labels, dtype=np.int64)
        if len(samples) != len(labels):
            raise RuntimeError(f'{type(self).__name__}: {len(samples)} '
                               f'samples but {len(labels)} labels')
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        if bad.size:
            raise ValueError(f'{type(self).__name__}: labels '
                             f'{sorted(set(bad.tolist()))[:10]} out of '
                             f'range(0, {self.num_classes})')
        remap = np.empty(self.num_classes, dtype=np.int64)
        remap[np.asarray(self.class_order)] = np.arange(self.num_classes)
        keep = set(self.tasks)
        data_list = []
        for sample, ori in zip(samples, labels):
            label = int(remap[ori])
            task = label // self.classes_per_task
            if task not in keep:
                continue
            info = copy.copy(sample)
            info.update(gt_label=label, ori_label=int(ori), task_id=task)
            data_list.append(info)
        return data_list

    def get_gt_labels(self) -> np.ndarray:
        """Remapped labels of all kept samples.

        Returns:
            np.ndarray: One int64 label per sample.
        """
        return np.array(
            [self.get_data_info(i)['gt_label'] for i in range(len(self))],
            dtype=np.int64)
