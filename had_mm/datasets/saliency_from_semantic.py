# Copyright (c) had_mm contributors. All rights reserved.
"""Derive a "salient objects" mask from NYUv2 semantic labels.

NYUv2 has no official saliency labels. had_mm's 4-task NYUv2 sequence uses
a *derived* mask: a pixel is salient when its semantic class is an object,
and not salient when it is room structure. The rule is the one the
synthetic-rooms generator uses for its exact labels
(:data:`had_mm.datasets.synthetic_rooms.ROOM_STRUCTURE_CLASSES`).

Room structure (saliency 0), every other class is salient (saliency 1):

- **13 classes** (NYUv2-13): ``ceiling``, ``floor``, ``wall``, ``window``.
- **40 classes** (NYUv2-40): ``wall``, ``floor``, ``door``, ``window``,
  ``blinds``, ``curtain``, ``floor mat``, ``ceiling`` -- exactly the
  NYUv2-40 classes that the standard 40 -> 13 table (the one
  ``tools/data/convert_nyuv2_mat.py`` uses) maps to wall, floor, ceiling or
  window. So the masks derived from ``seg40`` and from ``seg13`` of the same
  image are identical. ``otherstructure`` (columns, stairs, railings,
  ...) is salient because that table maps it to ``objects``; ``picture``,
  ``mirror``, ``whiteboard`` and ``shower curtain`` are salient as well.

Unlabelled pixels are *ignore* (255) in the mask this module returns. How
they are stored depends on the file format, because had_mm's loader
(``LoadMultiTaskAnnotations._load_saliency``) can only read an ignore value
from non-finite ``.npy`` values: ``tools/data/derive_saliency.py`` writes
NaN into ``.npy`` files (ignored when loading) and 0 (not salient) into
0/255 PNGs.

This module needs only NumPy, so tools can load it without importing
mmengine; its class tuples are those of
:mod:`had_mm.datasets.nyuv2_classes`.
"""
from typing import Tuple

import numpy as np

from . import nyuv2_classes

__all__ = [
    'NYUV2_13_CLASSES', 'NYUV2_40_CLASSES', 'ROOM_STRUCTURE_CLASSES_13',
    'ROOM_STRUCTURE_CLASSES_40', 'SALIENT_CLASSES_13', 'SALIENT_CLASSES_40',
    'SALIENCY_IGNORE', 'salient_class_lut', 'saliency_from_semantic'
]

#: NYUv2-13 class names for the class ids 1..13 (0 = unlabelled).
NYUV2_13_CLASSES = nyuv2_classes.NYUV2_13_CLASSES
#: NYUv2-40 class names for the class ids 1..40 (0 = unlabelled).
NYUV2_40_CLASSES = nyuv2_classes.NYUV2_40_CLASSES

#: Room structure of NYUv2-13 (not salient); as in synthetic_rooms.
ROOM_STRUCTURE_CLASSES_13 = ('ceiling', 'floor', 'wall', 'window')
#: Room structure of NYUv2-40 (not salient): the classes that the standard
#: 40 -> 13 table maps to ceiling, floor, wall or window.
ROOM_STRUCTURE_CLASSES_40 = ('wall', 'floor', 'door', 'window', 'blinds',
                             'curtain', 'floor mat', 'ceiling')
SALIENT_CLASSES_13 = tuple(c for c in NYUV2_13_CLASSES
                           if c not in ROOM_STRUCTURE_CLASSES_13)
SALIENT_CLASSES_40 = tuple(c for c in NYUV2_40_CLASSES
                           if c not in ROOM_STRUCTURE_CLASSES_40)

#: Value of unlabelled pixels in the returned mask (had_mm's convention).
SALIENCY_IGNORE = 255


def _classes(num_classes: int) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    if num_classes == 13:
        return NYUV2_13_CLASSES, ROOM_STRUCTURE_CLASSES_13
    if num_classes == 40:
        return NYUV2_40_CLASSES, ROOM_STRUCTURE_CLASSES_40
    raise ValueError(f'num_classes must be 13 or 40 (NYUv2-13 / NYUv2-40), '
                     f'got {num_classes}')


def salient_class_lut(num_classes: int) -> np.ndarray:
    """Which class is salient, indexed by the 0-based class index.

    Args:
        num_classes (int): 13 or 40.

    Returns:
        np.ndarray: bool array of length ``num_classes``; entry ``i`` is
        True when class ``i`` (name ``CLASSES[i]``) is an object class.
    """
    classes, structure = _classes(num_classes)
    return np.array([c not in structure for c in classes], dtype=bool)


def saliency_from_semantic(seg: np.ndarray,
                           num_classes: int,
                           one_based: bool = True) -> np.ndarray:
    """Map a semantic label map to a salient-objects mask.

    Args:
        seg (np.ndarray): Integer class map (any shape).
        num_classes (int): 13 or 40.
        one_based (bool): True for the PNG convention (0 = unlabelled,
            classes 1..C); False for 0-based class indices (0..C-1) where
            negative values and 255 are unlabelled (``.npy`` labels with
            -1 = ignore, or had_mm's ``gt_seg_map``).

    Returns:
        np.ndarray: uint8 mask of the same shape: 1 = salient object, 0 =
        room structure, :data:`SALIENCY_IGNORE` (255) = unlabelled.

    Raises:
        ValueError: For non-integer values or a class id out of range.
    """
    seg = np.asarray(seg)
    if seg.dtype.kind == 'f':
        if not np.all(np.isfinite(seg)) or np.any(seg != np.round(seg)):
            raise ValueError('semantic labels must be integer class ids '
                             '(got non-integer values)')
    elif seg.dtype.kind not in 'iub':
        raise ValueError(f'semantic labels must be integers, got dtype '
                         f'{seg.dtype}')
    idx = seg.astype(np.int64)
    if one_based:
        unlabelled = idx == 0
        idx = idx - 1
    else:
        unlabelled = (idx < 0) | (idx == SALIENCY_IGNORE)
    bad = ~unlabelled & ((idx < 0) | (idx >= num_classes))
    if bad.any():
        first = int(seg[bad].flat[0])
        valid = f'1..{num_classes}' if one_based else f'0..{num_classes - 1}'
        raise ValueError(
            f'semantic label {first} is out of range for {num_classes} '
            f'classes (expected {valid}); check num_classes (13 or 40)')
    lut = salient_class_lut(num_classes).astype(np.uint8)
    mask = lut[np.where(unlabelled, 0, idx)]
    mask[unlabelled] = SALIENCY_IGNORE
    return mask
