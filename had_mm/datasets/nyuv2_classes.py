# Copyright (c) had_mm contributors. All rights reserved.
"""The NYUv2 class names and palettes, in one place.

This module imports nothing but the standard library, so that the NumPy
only modules (:mod:`~had_mm.datasets.synthetic_rooms`,
:mod:`~had_mm.datasets.saliency_from_semantic`) and the data tools that
load those by file path can read it without importing mmengine.
"""
import colorsys
from typing import List

__all__ = [
    'NYUV2_13_CLASSES', 'NYUV2_13_PALETTE', 'NYUV2_40_CLASSES',
    'NYUV2_40_TO_13', 'nyuv2_palette'
]

#: NYUv2-13 class names for the class ids 1..13 (0 = unlabelled).
NYUV2_13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
                    'objects', 'picture', 'sofa', 'table', 'tv', 'wall',
                    'window')

#: One RGB colour per class of :data:`NYUV2_13_CLASSES` (ids 1..13).
NYUV2_13_PALETTE = ((0, 0, 255), (232, 88, 47), (0, 217, 0), (148, 0, 240),
                    (222, 241, 23), (255, 205, 205), (0, 223, 228),
                    (106, 135, 204), (116, 28, 41), (240, 35, 235),
                    (0, 166, 156), (249, 139, 0), (225, 228, 194))

#: NYUv2-40 class names for the class ids 1..40 (0 = unlabelled).
NYUV2_40_CLASSES = ('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa',
                    'table', 'door', 'window', 'bookshelf', 'picture',
                    'counter', 'blinds', 'desk', 'shelves', 'curtain',
                    'dresser', 'pillow', 'mirror', 'floor mat', 'clothes',
                    'ceiling', 'books', 'refrigerator', 'television', 'paper',
                    'towel', 'shower curtain', 'box', 'whiteboard', 'person',
                    'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag',
                    'otherstructure', 'otherfurniture', 'otherprop')

#: NYUv2-40 class id (1..40) -> NYUv2-13 class id (1..13), index 0 =
#: unlabelled. The standard table of the 13-class NYUv2 benchmark (Couprie
#: et al., ICLR 2013; Eigen & Fergus, ICCV 2015; SceneNet, Handa et al.),
#: published as ``class13Mapping.mat`` in
#: https://github.com/ankurhanda/nyuv2-meta-data. 13-class ids follow the
#: alphabetical order of :data:`NYUV2_13_CLASSES`: 1 bed, 2 books,
#: 3 ceiling, 4 chair, 5 floor, 6 furniture, 7 objects, 8 picture, 9 sofa,
#: 10 table, 11 tv, 12 wall, 13 window.
NYUV2_40_TO_13 = (0, 12, 5, 6, 1, 4, 9, 10, 12, 13, 6, 8, 6, 13, 10, 6, 13, 6,
                  7, 7, 5, 7, 3, 2, 6, 11, 7, 7, 7, 7, 7, 7, 6, 7, 7, 7, 7, 7,
                  7, 6, 7)


def nyuv2_palette(num: int) -> List[List[int]]:
    """A fixed, well-spread palette of ``num`` colours (golden-ratio hues).

    Args:
        num (int): Number of colours (e.g. 40 for NYUv2-40).

    Returns:
        list[list[int]]: ``num`` RGB colours.
    """
    return [[
        int(255 * c)
        for c in colorsys.hsv_to_rgb((i * 0.618034) % 1, 0.75, 0.95)
    ] for i in range(num)]
