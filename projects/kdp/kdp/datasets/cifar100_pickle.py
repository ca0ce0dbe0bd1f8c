"""CIFAR-100 from its standard Python pickles, split into tasks."""
import os.path as osp
import pickle
from typing import List, Optional, Sequence, Tuple

import numpy as np

from had_mm.registry import DATASETS
from .class_incremental_dataset import ClassIncrementalDataset

LAYOUT = ('<data_root>/cifar-100-python/{train,test,meta} (the standard '
          '"CIFAR-100 python version" archive, cifar-100-python.tar.gz, '
          'extracted; data_root may also be the cifar-100-python folder)')


def _load_pickle(path: str) -> dict:
    """Load one CIFAR pickle, with str keys.

    Args:
        path (str): The file.

    Returns:
        dict: Its content (keys decoded with latin-1).
    """
    with open(path, 'rb') as f:
        data = pickle.load(f, encoding='latin1')
    if not isinstance(data, dict):
        raise ValueError(f'{path} is not a CIFAR-100 pickle (a dict); '
                         f'expected layout: {LAYOUT}')
    return {
        (k.decode('latin1') if isinstance(k, bytes) else k): v
        for k, v in data.items()
    }


@DATASETS.register_module()
class CIFAR100Pickle(ClassIncrementalDataset):
    """CIFAR-100 read from ``cifar-100-python/{train,test,meta}``.

    The images (32x32 RGB, uint8) are held in memory; pipelines start with
    the image already loaded (no ``LoadImageFromFile``). Labels are the 100
    fine labels, remapped through the class order into ``num_tasks`` tasks
    (10 x 10 in the KDP setting, order from ``class_order_seed``).

    Args:
        data_root (str): The folder holding ``cifar-100-python/`` (or that
            folder itself).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        num_tasks (int): Number of tasks. Defaults to 10.
        class_order (Sequence[int], optional): Explicit class order.
        class_order_seed (int, optional): Seed of the class order.
        tasks (int | Sequence[int], optional): Tasks to keep.
        **kwargs: Other :class:`ClassIncrementalDataset` arguments.

    Raises:
        FileNotFoundError: If a pickle is missing; the message names it and
            the expected layout.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 num_tasks: int = 10,
                 class_order: Optional[Sequence[int]] = None,
                 class_order_seed: Optional[int] = None,
                 tasks=None,
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got "
                             f'{split!r}')
        self.split = split
        self.folder = self._find_folder(data_root)
        super().__init__(
            num_tasks=num_tasks,
            class_order=class_order,
            class_order_seed=class_order_seed,
            tasks=tasks,
            data_root=data_root,
            **kwargs)

    @staticmethod
    def _find_folder(data_root: str) -> str:
        """The ``cifar-100-python`` folder under (or at) ``data_root``."""
        for folder in (osp.join(data_root, 'cifar-100-python'), data_root):
            if osp.isfile(osp.join(folder, 'meta')):
                return folder
        return osp.join(data_root, 'cifar-100-python')

    def _path(self, name: str) -> str:
        path = osp.join(self.folder, name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'CIFAR-100 file "{path}" is missing; '
                                    f'expected layout: {LAYOUT}')
        return path

    def class_names(self) -> Sequence[str]:
        """The 100 fine label names, from ``meta``.

        Returns:
            Sequence[str]: The names.
        """
        meta = _load_pickle(self._path('meta'))
        if 'fine_label_names' not in meta:
            raise ValueError(f'{self._path("meta")} has no '
                             f'"fine_label_names"; expected layout: {LAYOUT}')
        return [str(n) for n in meta['fine_label_names']]

    def load_samples(self) -> Tuple[List[dict], np.ndarray]:
        """Read the split's pickle.

        Returns:
            tuple[list[dict], np.ndarray]: ``img`` dicts and fine labels.
        """
        path = self._path(self.split)
        data = _load_pickle(path)
        for key in ('data', 'fine_labels'):
            if key not in data:
                raise ValueError(f'{path} has no "{key}"; expected layout: '
                                 f'{LAYOUT}')
        images = np.asarray(data['data'], dtype=np.uint8)
        if images.ndim != 2 or images.shape[1] != 3 * 32 * 32:
            raise ValueError(f'{path}: "data" has shape {images.shape}, '
                             f'expected (N, 3072)')
        images = images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        labels = np.asarray(data['fine_labels'], dtype=np.int64)
        samples = [
            dict(
                img=np.ascontiguousarray(img),
                img_shape=(32, 32),
                ori_shape=(32, 32)) for img in images
        ]
        return samples, labels
