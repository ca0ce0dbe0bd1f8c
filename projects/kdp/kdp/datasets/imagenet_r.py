"""ImageNet-R from an image folder with split files, split into tasks."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from had_mm.registry import DATASETS
from .class_incremental_dataset import ClassIncrementalDataset

LAYOUT = ('<data_root>/imagenet-r/<wnid>/<image>.jpg (the extracted '
          'imagenet-r.tar, one folder per class) and '
          '<data_root>/{train,test}.txt, one "<wnid>/<image>.jpg" per line '
          '(make them with projects/kdp/tools/make_imagenet_r_split.py)')


@DATASETS.register_module()
class ImageNetR(ClassIncrementalDataset):
    """ImageNet-R (200 classes) from an image folder and split files.

    Layout::

        <data_root>/imagenet-r/n01443537/art_0.jpg ...  # one folder a class
        <data_root>/train.txt   # "n01443537/art_0.jpg" per line
        <data_root>/test.txt

    The classes are the sorted sub-folders of ``img_dir``; a split line
    may carry a trailing label column, which is ignored (the label comes
    from the folder). Images are loaded by the pipeline
    (``mmpretrain.LoadImageFromFile``).

    Args:
        data_root (str): The root folder.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        num_tasks (int): Number of tasks. Defaults to 10.
        img_dir (str): Image folder under ``data_root``. Defaults to
            ``'imagenet-r'``.
        split_file (str, optional): Split list under ``data_root``.
            Defaults to ``'<split>.txt'``.
        class_order (Sequence[int], optional): Explicit class order.
        class_order_seed (int, optional): Seed of the class order.
        tasks (int | Sequence[int], optional): Tasks to keep.
        check_files (bool): Check that every listed image exists (one
            ``stat`` per image). Defaults to True.
        **kwargs: Other :class:`ClassIncrementalDataset` arguments.

    Raises:
        FileNotFoundError: If the folder, the split file or a listed image
            is missing; the message names it and the layout.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 num_tasks: int = 10,
                 img_dir: str = 'imagenet-r',
                 split_file: Optional[str] = None,
                 class_order: Optional[Sequence[int]] = None,
                 class_order_seed: Optional[int] = None,
                 tasks=None,
                 check_files: bool = True,
                 **kwargs) -> None:
        self.split = split
        self.img_root = osp.join(data_root, img_dir)
        self.split_path = osp.join(data_root, split_file or f'{split}.txt')
        self.check_files = check_files
        super().__init__(
            num_tasks=num_tasks,
            class_order=class_order,
            class_order_seed=class_order_seed,
            tasks=tasks,
            data_root=data_root,
            **kwargs)

    def class_names(self) -> Sequence[str]:
        """The sorted class folders (WordNet ids).

        Returns:
            Sequence[str]: The names.
        """
        if not osp.isdir(self.img_root):
            raise FileNotFoundError(f'ImageNet-R image folder '
                                    f'"{self.img_root}" is missing; expected '
                                    f'layout: {LAYOUT}')
        names = sorted(
            d for d in os.listdir(self.img_root)
            if osp.isdir(osp.join(self.img_root, d)))
        if not names:
            raise FileNotFoundError(f'"{self.img_root}" has no class '
                                    f'folders; expected layout: {LAYOUT}')
        return names

    def load_samples(self) -> Tuple[List[dict], np.ndarray]:
        """Read the split file.

        Returns:
            tuple[list[dict], np.ndarray]: ``img_path`` dicts and labels.
        """
        if not osp.isfile(self.split_path):
            raise FileNotFoundError(f'ImageNet-R split file '
                                    f'"{self.split_path}" is missing; '
                                    f'expected layout: {LAYOUT}')
        index = {name: i for i, name in enumerate(self.class_names())}
        samples, labels = [], []
        with open(self.split_path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                rel = line.split()[0]
                wnid = rel.replace('\\', '/').split('/')[0]
                if wnid not in index:
                    raise ValueError(f'{self.split_path}:{n}: "{rel}" is not '
                                     f'in a class folder of '
                                     f'"{self.img_root}"; expected layout: '
                                     f'{LAYOUT}')
                path = osp.join(self.img_root, rel)
                if self.check_files and not osp.isfile(path):
                    raise FileNotFoundError(f'{self.split_path}:{n}: image '
                                            f'"{path}" is missing')
                samples.append(dict(img_path=path))
                labels.append(index[wnid])
        if not samples:
            raise ValueError(f'{self.split_path} lists no images')
        return samples, np.asarray(labels, dtype=np.int64)
