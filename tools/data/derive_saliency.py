# Copyright (c) had_mm contributors. All rights reserved.
"""Derive "salient objects" maps from NYUv2 semantic labels.

NYUv2 has no official saliency labels. This tool writes a *derived* mask
(object classes = salient, room structure = not; the class lists are in
:mod:`had_mm.datasets.saliency_from_semantic`) next to the semantic labels
of any of the three NYUv2 layouts, where
:class:`had_mm.datasets.NYUv2MultiTaskDataset` looks for saliency:

- toolkit: ``saliency/{train,test}/<id>.png`` (0/255), from ``seg40/`` if
  present, else ``seg13/``.
- nyud (multi-task NYUD): ``saliency/<id>.png`` (0/255), from
  ``segmentation/`` (40 classes), for the ids of ``gt_sets/{train,val}.txt``.
- numpy: ``{train,val}/saliency/<id>.npy`` (float32 1/0), from
  ``{train,val}/label/`` (13 classes).

Unlabelled pixels: NaN in ``.npy`` files, which had_mm's loader ignores;
0 (not salient) in PNGs, because a 0/255 PNG has no value the loader reads
as ignore. ``derived_saliency.json`` in the data root records the rule.

Example::

    python tools/data/derive_saliency.py data/nyuv2

Existing saliency files may be real labels, so the tool refuses to replace
them unless ``--overwrite`` is given. ``--min-area N`` cleans each mask:
salient blobs of fewer than N pixels (a stray object label) are dropped and
holes of fewer than N pixels inside objects (e.g. a gap between labels) are
filled; unlabelled pixels stay unlabelled.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from light_import import cli, load_dataset_module  # noqa: E402

_sal = load_dataset_module('saliency_from_semantic')

LAYOUTS = ('toolkit', 'nyud', 'numpy')
# The classes each layout's semantic labels can have (as in the dataset).
LAYOUT_CLASSES = {'toolkit': (13, 40), 'nyud': (40, ), 'numpy': (13, )}


class DeriveError(Exception):
    """Bad input, reported as one line."""


def detect_layout(root: str) -> str:
    """Name the layout of ``root`` as ``NYUv2MultiTaskDataset`` does.

    Args:
        root (str): The data root.

    Returns:
        str: ``'toolkit'``, ``'nyud'`` or ``'numpy'``.

    Raises:
        DeriveError: If no layout matches.
    """
    if any(osp.isdir(osp.join(root, 'image', s)) for s in ('train', 'test')):
        return 'toolkit'
    if osp.isdir(osp.join(root, 'gt_sets')) and osp.isdir(
            osp.join(root, 'images')):
        return 'nyud'
    if any(osp.isdir(osp.join(root, s, 'image')) for s in ('train', 'val')):
        return 'numpy'
    raise DeriveError(
        f'cannot recognise the layout of "{root}": expected image/train/ '
        f'(toolkit), images/ + gt_sets/ (multi-task NYUD) or '
        f'train/image/*.npy (numpy)')


def _list_ids(folder: str, ext: str) -> List[str]:
    if not osp.isdir(folder):
        return []
    return sorted(
        (osp.splitext(f)[0] for f in os.listdir(folder) if f.endswith(ext)),
        key=lambda s: (len(s), s))


def plan(root: str, layout: str, num_classes: int,
         splits: List[str]) -> List[Tuple[str, str]]:
    """List ``(semantic label, saliency output)`` path pairs.

    Args:
        root (str): The data root.
        layout (str): One of :data:`LAYOUTS`.
        num_classes (int): 13 or 40.
        splits (list[str]): ``'train'`` and/or ``'test'``; splits that the
            data set does not have are skipped.

    Returns:
        list[tuple[str, str]]: One pair per image.

    Raises:
        DeriveError: If an image has no semantic label, or nothing is found.
    """
    pairs = []
    for split in splits:
        alt = 'val' if split == 'test' else split
        if layout == 'toolkit':
            ids = _list_ids(osp.join(root, 'image', split), '.png')
            pairs += [(osp.join(root, f'seg{num_classes}', split, f'{i}.png'),
                       osp.join(root, 'saliency', split, f'{i}.png'))
                      for i in ids]
        elif layout == 'nyud':
            listing = osp.join(root, 'gt_sets', f'{alt}.txt')
            if not osp.isfile(listing):
                continue
            with open(listing) as f:
                ids = [ln.strip() for ln in f if ln.strip()]
            pairs += [(osp.join(root, 'segmentation', f'{i}.png'),
                       osp.join(root, 'saliency', f'{i}.png')) for i in ids]
        else:
            ids = _list_ids(osp.join(root, alt, 'image'), '.npy')
            pairs += [(osp.join(root, alt, 'label', f'{i}.npy'),
                       osp.join(root, alt, 'saliency', f'{i}.npy'))
                      for i in ids]
    if not pairs:
        raise DeriveError(f'no images for split(s) {", ".join(splits)} in '
                          f'"{root}" ({layout} layout)')
    missing = [src for src, _ in pairs if not osp.isfile(src)]
    if missing:
        raise DeriveError(
            f'{len(missing)} image(s) have no {num_classes}-class semantic '
            f'label, e.g. "{missing[0]}"')
    return pairs


def clean_mask(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop salient blobs and fill salient holes smaller than ``min_area``.

    Uses scikit-image's ``remove_small_objects`` / ``remove_small_holes``
    (4-connected components); unlabelled pixels stay unlabelled and are
    never filled.

    Args:
        mask (np.ndarray): uint8 HxW, 1 / 0 / 255 = unlabelled.
        min_area (int): Components of fewer pixels are removed; <= 1
            changes nothing.

    Returns:
        np.ndarray: The cleaned mask.
    """
    if min_area <= 1:
        return mask
    from skimage import morphology
    salient = mask == 1
    try:  # scikit-image >= 0.26: remove components of <= max_size pixels
        salient = morphology.remove_small_objects(
            salient, max_size=min_area - 1)
        salient = morphology.remove_small_holes(salient, max_size=min_area - 1)
    except TypeError:  # older: remove components of < min_size pixels
        salient = morphology.remove_small_objects(salient, min_size=min_area)
        salient = morphology.remove_small_holes(
            salient, area_threshold=min_area)
    out = np.where(salient, 1, 0).astype(np.uint8)
    out[mask == _sal.SALIENCY_IGNORE] = _sal.SALIENCY_IGNORE
    return out


def derive_one(src: str,
               dst: str,
               num_classes: int,
               min_area: int = 0) -> np.ndarray:
    """Derive and write the saliency map of one semantic label file.

    Args:
        src (str): A semantic label (``.png``: 0 = unlabelled, classes
            1..C; ``.npy``: classes 0..C-1, negative = unlabelled).
        dst (str): The output (``.png``: 0/255; ``.npy``: float32 1/0 with
            NaN = unlabelled).
        num_classes (int): 13 or 40.
        min_area (int): Clean the mask with :func:`clean_mask` (0: keep
            it as the labels give it).

    Returns:
        np.ndarray: The uint8 mask (1 / 0 / 255 = unlabelled).

    Raises:
        DeriveError: For an unreadable label or a class id out of range.
    """
    try:
        if src.endswith('.npy'):
            seg = np.squeeze(np.load(src))
        else:
            with Image.open(src) as img:
                seg = np.array(img)
        mask = _sal.saliency_from_semantic(
            seg, num_classes, one_based=not src.endswith('.npy'))
    except (OSError, ValueError) as err:
        raise DeriveError(f'semantic label "{src}": {err}')
    if seg.ndim != 2:
        raise DeriveError(f'semantic label "{src}" must be HxW, got '
                          f'{seg.shape}')
    mask = clean_mask(mask, min_area)
    os.makedirs(osp.dirname(dst), exist_ok=True)
    if dst.endswith('.npy'):
        out = np.where(mask == _sal.SALIENCY_IGNORE, np.nan,
                       mask).astype(np.float32)
        np.save(dst, out)
    else:
        png = np.where(mask == 1, 255, 0).astype(np.uint8)
        Image.fromarray(png).save(dst, compress_level=1)
    return mask


def derive(root: str,
           layout: str = 'auto',
           num_classes: Optional[int] = None,
           splits: Optional[List[str]] = None,
           overwrite: bool = False,
           min_area: int = 0) -> Dict[str, object]:
    """Derive saliency for every image of a data set.

    Args:
        root (str): The data root.
        layout (str): ``'auto'`` or one of :data:`LAYOUTS`.
        num_classes (int, optional): Semantic classes to read; default: 40
            where the layout has them, else 13.
        splits (list[str], optional): Default ``['train', 'test']``.
        overwrite (bool): Replace existing saliency files.
        min_area (int): Remove salient blobs and fill holes of fewer
            pixels (see :func:`clean_mask`); 0 = no cleaning.

    Returns:
        dict: What was written (also saved as ``derived_saliency.json``).

    Raises:
        DeriveError: For bad input, or existing files without
            ``overwrite``.
    """
    if not osp.isdir(root):
        raise DeriveError(f'data root "{root}" does not exist')
    layout = detect_layout(root) if layout == 'auto' else layout
    if num_classes is None:
        num_classes = 13
        if layout == 'nyud' or (layout == 'toolkit'
                                and osp.isdir(osp.join(root, 'seg40'))):
            num_classes = 40
    if num_classes not in LAYOUT_CLASSES[layout]:
        raise DeriveError(f'the {layout} layout has no {num_classes}-class '
                          f'labels (it has {LAYOUT_CLASSES[layout]})')
    pairs = plan(root, layout, num_classes, splits or ['train', 'test'])
    existing = [dst for _, dst in pairs if osp.exists(dst)]
    if existing and not overwrite:
        raise DeriveError(
            f'{len(existing)} saliency file(s) already exist, e.g. '
            f'"{existing[0]}"; they may be real labels: pass --overwrite '
            f'to replace them')
    salient = 0
    labelled = 0
    for src, dst in pairs:
        mask = derive_one(src, dst, num_classes, min_area)
        salient += int(np.sum(mask == 1))
        labelled += int(np.sum(mask != _sal.SALIENCY_IGNORE))
    structure = (
        _sal.ROOM_STRUCTURE_CLASSES_13
        if num_classes == 13 else _sal.ROOM_STRUCTURE_CLASSES_40)
    report = dict(
        derived=True,
        note='NYUv2 has no official saliency labels: salient = object '
        'classes, not salient = room structure',
        layout=layout,
        num_classes=num_classes,
        room_structure_classes=list(structure),
        unlabelled='NaN in .npy (ignored by the loader), 0 in PNG',
        images=len(pairs),
        min_area=min_area,
        salient_fraction=round(salient / max(labelled, 1), 4))
    with open(osp.join(root, 'derived_saliency.json'), 'w') as f:
        json.dump(report, f, indent=2)
    return report


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser(
        'Derive salient-object maps (object classes vs room '
        'structure) from NYUv2 semantic labels, for the toolkit, nyud or '
        'numpy layout, where NYUv2MultiTaskDataset finds them.')
    parser.add_argument('data_root', help='the NYUv2 data root')
    parser.add_argument(
        '--layout',
        choices=('auto', ) + LAYOUTS,
        default='auto',
        help='data set layout (default: detect)')
    parser.add_argument(
        '--num-classes',
        type=int,
        choices=(13, 40),
        help='semantic labels to derive from (default: 40 where the layout '
        'has them, else 13; both give the same mask)')
    parser.add_argument(
        '--splits',
        nargs='+',
        choices=('train', 'test'),
        default=['train', 'test'],
        help='splits to process (default: train test; "test" is "val" in '
        'the nyud and numpy layouts)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace existing saliency files (they may be real labels)')
    parser.add_argument(
        '--min-area',
        type=int,
        default=0,
        metavar='PIXELS',
        help='remove salient blobs and fill holes of fewer pixels (small '
        'objects and gaps of the semantic labels; scikit-image morphology; '
        'default 0: none)')
    args = parser.parse_args(argv)
    if args.min_area < 0:
        parser.error(f'--min-area must be >= 0, got {args.min_area}')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Run the tool; one ``error:`` line and exit status 2 on bad input."""
    args = parse_args(argv)
    try:
        report = derive(args.data_root, args.layout, args.num_classes,
                        args.splits, args.overwrite, args.min_area)
    except DeriveError as err:
        cli.exit_error(err)
    print(f'derived saliency for {report["images"]} images '
          f'({report["layout"]} layout, {report["num_classes"]} classes, '
          f'{report["salient_fraction"]:.1%} of labelled pixels salient)')


if __name__ == '__main__':
    main()
