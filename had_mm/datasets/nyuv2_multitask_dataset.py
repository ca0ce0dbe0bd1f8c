import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from had_mm.registry import DATASETS
from had_mm.tasks import check_tasks, get_task, task_names
from .nyuv2_classes import (NYUV2_13_CLASSES, NYUV2_13_PALETTE,
                            NYUV2_40_CLASSES, nyuv2_palette)

# Per layout: where each built-in task's file is, relative to data_root, for
# a split (a task registered elsewhere reads its label_source's file).
_LAYOUTS = {
    'toolkit':
    dict(
        image='image/{split}/{id}.png',
        semantic='seg{nc}/{split}/{id}.png',
        depth='depth/{split}/{id}.png',
        normal='normal/{split}/{id}.png',
        saliency='saliency/{split}/{id}.png',
        marker='image/{split}'),
    'nyud':
    dict(
        image='images/{id}.{img_ext}',
        semantic='segmentation/{id}.png',
        depth='depth/{id}.npy',
        normal='normals/{id}.{normal_ext}',
        saliency='saliency/{id}.png',
        marker='gt_sets'),
    'numpy':
    dict(
        image='{split}/image/{id}.npy',
        semantic='{split}/label/{id}.npy',
        depth='{split}/depth/{id}.npy',
        normal='{split}/normal/{id}.npy',
        saliency='{split}/saliency/{id}.npy',
        marker='{split}/image'),
}
#: The class counts each layout offers. The nyud layout stores 40 classes;
#: its 13-class labels are mapped from them with the standard table
#: (:data:`~had_mm.datasets.nyuv2_classes.NYUV2_40_TO_13`).
_LAYOUT_CLASSES = {'toolkit': (13, 40), 'nyud': (13, 40), 'numpy': (13, )}
#: Layouts whose label files hold 40 classes only.
_STORED_40 = ('nyud', )
#: A config per class count, for messages.
_CLASS_CONFIGS = {
    13: 'configs/had/had_r18-d8_nyuv2-3tasks.py',
    40: 'configs/dense/joint_r18-d8_nyuv2-40-4tasks.py'
}
#: Where to read how to prepare NYUv2.
PREP_DOC = 'docs/en/user_guides/nyuv2_8gpus.md'


def _missing_root_hint(data_root: str) -> str:
    """What to do about a ``data_root`` that does not exist."""
    if 'synthetic' in osp.basename(osp.normpath(data_root)).lower():
        return (f'generate synthetic rooms with `python '
                f'tools/data/make_synthetic_rooms.py --out {data_root}` '
                f'(or `make data`)')
    return (f'prepare NYUv2 there as {PREP_DOC} describes ("1. Data": '
            f'toolkit, multi-task NYUD or NumPy layout), or point data_root '
            f'at your copy (--cfg-options '
            f'train_dataloader.dataset.data_root=... '
            f'val_dataloader.dataset.data_root=...)')


@DATASETS.register_module()
class NYUv2MultiTaskDataset(BaseDataset):
    """NYUv2 for multi-task dense prediction, in any of three layouts.

    Detects the layout of ``data_root`` (see
    ``docs/en/user_guides/nyuv2_8gpus.md``):

    - ``toolkit``: ``image/{train,test}/N.png``, ``seg13|seg40/...``,
      ``depth/...`` (uint16 mm), ``normal/...`` (RGB), ``saliency/...``.
      The synthetic-rooms generator writes this layout.
    - ``nyud`` (multi-task NYUD): ``images/``, ``segmentation/``,
      ``depth/*.npy``, ``normals/``, ``gt_sets/{train,val}.txt``. Its
      labels hold 40 classes; with ``num_classes=13`` they are mapped to
      13 with the standard table (``NYUV2_40_TO_13``, as the converter
      of the toolkit layout does).
    - ``numpy`` (preprocessed 288x384): ``{train,val}/{image,label,depth,
      normal}/N.npy``.

    Only the labels of ``tasks`` are loaded. Each data info holds
    ``img_path``, ``<task>_path`` per task, ``layout`` and ``num_classes``
    for :class:`LoadMultiTaskAnnotations`.

    Args:
        data_root (str): The dataset folder.
        split (str): ``'train'`` or ``'test'`` (``'val'`` is an alias; the
            nyud and numpy layouts call the test split ``val``).
        tasks (Sequence[str], optional): Tasks whose labels to load, any
            registered task type (:func:`~had_mm.tasks.task_names`); a task
            without files of its own reads those of its spec's
            ``label_source``. Defaults to None: semantic, depth, normal and
            saliency.
        num_classes (int): 13 or 40 semantic classes.
        layout (str): ``'auto'`` (detect) or one of the three names.
        indices (int | Sequence[int], optional): Passed to BaseDataset.
        **kwargs: Other BaseDataset arguments (pipeline, test_mode, ...).
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 tasks: Optional[Sequence[str]] = None,
                 num_classes: int = 13,
                 layout: str = 'auto',
                 **kwargs) -> None:
        # default: every built-in task (those a NYUv2 layout has files for)
        self.tasks = check_tasks(
            tasks if tasks is not None else
            [t for t in task_names() if t in _LAYOUTS['toolkit']])
        if split not in ('train', 'test', 'val'):
            raise ValueError(f'split must be "train" or "test", got {split!r}')
        if num_classes not in (13, 40):
            raise ValueError(
                f'num_classes must be 13 or 40 (NYUv2-13 / NYUv2-40), got '
                f'{num_classes}')
        self.split = split
        self.num_classes = num_classes
        if not osp.isdir(data_root):
            raise FileNotFoundError(f'data_root "{data_root}" does not '
                                    f'exist; {_missing_root_hint(data_root)}')
        self.layout = self.detect_layout(data_root, split) \
            if layout == 'auto' else layout
        if self.layout not in _LAYOUTS:
            raise ValueError(f'unknown layout {layout!r}; use "auto", '
                             f'{", ".join(_LAYOUTS)}')
        if num_classes not in _LAYOUT_CLASSES[self.layout]:
            have = _LAYOUT_CLASSES[self.layout][0]
            raise ValueError(
                f'the {self.layout} layout of "{data_root}" has '
                f'{have}-class labels only, not {num_classes}; use a '
                f'{have}-class config (e.g. {_CLASS_CONFIGS[have]}) or set '
                f'num_classes={have} in every dataloader\'s dataset and the '
                f'model\'s semantic head')
        classes = NYUV2_13_CLASSES if num_classes == 13 else NYUV2_40_CLASSES
        # dataset meta holds lists, as mmseg's datasets do
        palette = ([list(c) for c in NYUV2_13_PALETTE]
                   if num_classes == 13 else nyuv2_palette(40))
        metainfo = dict(
            classes=classes, palette=palette, tasks=tuple(self.tasks))
        metainfo.update(kwargs.pop('metainfo', None) or {})
        super().__init__(data_root=data_root, metainfo=metainfo, **kwargs)

    @staticmethod
    def detect_layout(data_root: str, split: str = 'train') -> str:
        """Name the layout of ``data_root``.

        Raises:
            ValueError: If no layout matches, listing what each expects.
        """
        alt = 'val' if split == 'test' else split
        if osp.isdir(osp.join(data_root, 'image', split)):
            return 'toolkit'
        if osp.isdir(osp.join(data_root, 'gt_sets')) and osp.isdir(
                osp.join(data_root, 'images')):
            return 'nyud'
        if osp.isdir(osp.join(data_root, alt, 'image')):
            return 'numpy'
        raise ValueError(
            f'cannot recognise the layout of "{data_root}" for split '
            f'"{split}": expected image/{split}/ (toolkit), images/ + '
            f'gt_sets/ (multi-task NYUD) or {alt}/image/*.npy (numpy); see '
            f'{PREP_DOC}')

    def _ids(self) -> List[str]:
        root, split = self.data_root, self.split
        if self.layout == 'toolkit':
            folder = osp.join(root, 'image', split)
            return sorted(
                osp.splitext(f)[0] for f in os.listdir(folder)
                if f.endswith('.png'))
        if self.layout == 'nyud':
            name = 'train' if split == 'train' else 'val'
            listing = osp.join(root, 'gt_sets', f'{name}.txt')
            if not osp.isfile(listing):
                raise FileNotFoundError(f'split file "{listing}" is missing')
            with open(listing) as f:
                return [ln.strip() for ln in f if ln.strip()]
        folder = osp.join(root, 'train' if split == 'train' else 'val',
                          'image')
        return sorted((osp.splitext(f)[0]
                       for f in os.listdir(folder) if f.endswith('.npy')),
                      key=lambda s: (len(s), s))

    def _path(self, kind: str, sample_id: str) -> str:
        if kind not in _LAYOUTS[self.layout]:
            # a derived label: the file of the task it is derived from
            source = get_task(kind).label_source
            if source is None:
                raise ValueError(
                    f'task {kind!r} has no files in the {self.layout} layout '
                    f'and its spec names no label_source')
            kind = source
        split = self.split
        if self.layout == 'numpy':
            split = 'train' if split == 'train' else 'val'
        fields: Dict[str, str] = dict(
            split=split, id=sample_id, nc=str(self.num_classes))
        pattern = _LAYOUTS[self.layout][kind]
        if '{img_ext}' in pattern or '{normal_ext}' in pattern:
            for ext in ('png', 'jpg', 'npy'):
                candidate = osp.join(
                    self.data_root,
                    pattern.format(**fields, img_ext=ext, normal_ext=ext))
                if osp.isfile(candidate):
                    return candidate
            fields.update(img_ext='png', normal_ext='npy')
        return osp.join(self.data_root, pattern.format(**fields))

    def load_data_list(self) -> List[dict]:
        """One info dict per image, with the paths of the requested labels.

        Raises:
            FileNotFoundError: If an image lacks a label of a requested task.
        """
        ids = self._ids()
        if not ids:
            raise FileNotFoundError(
                f'no images for split "{self.split}" in "{self.data_root}" '
                f'({self.layout} layout)')
        data_list = []
        for sample_id in ids:
            info = dict(
                img_path=self._path('image', sample_id),
                sample_id=sample_id,
                layout=self.layout,
                num_classes=self.num_classes,
                # labels stored with 40 classes, mapped to 13 on loading
                semantic_40_to_13=(self.layout in _STORED_40
                                   and self.num_classes == 13),
                tasks=list(self.tasks),
                seg_fields=[],
                reduce_zero_label=False)
            for task in self.tasks:
                path = self._path(task, sample_id)
                if not osp.isfile(path):
                    hint = get_task(task).missing_hint
                    raise FileNotFoundError(
                        f'image "{info["img_path"]}" has no {task} label: '
                        f'expected "{path}"{hint}')
                info[f'{task}_path'] = path
            data_list.append(info)
        print_log(
            f'NYUv2MultiTaskDataset: {len(data_list)} {self.split} images, '
            f'{self.layout} layout, tasks {self.tasks}',
            logger='current')
        return data_list
