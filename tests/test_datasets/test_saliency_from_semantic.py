import numpy as np
import pytest

from had_mm.datasets import NYUV2_13_CLASSES, NYUV2_40_CLASSES
from had_mm.datasets import saliency_from_semantic as sfs
from had_mm.datasets import synthetic_rooms


def test_class_lists_match_the_dataset_and_generator():
    assert sfs.NYUV2_13_CLASSES == NYUV2_13_CLASSES
    assert sfs.NYUV2_40_CLASSES == NYUV2_40_CLASSES
    # The 13-class rule is the generator's exact-label rule.
    assert sfs.SALIENT_CLASSES_13 == synthetic_rooms.SALIENT_CLASSES
    assert set(sfs.ROOM_STRUCTURE_CLASSES_13) == set(
        synthetic_rooms.ROOM_STRUCTURE_CLASSES)
    assert set(sfs.ROOM_STRUCTURE_CLASSES_40) <= set(NYUV2_40_CLASSES)
    assert sfs.ROOM_STRUCTURE_CLASSES_40 == ('wall', 'floor', 'door', 'window',
                                             'blinds', 'curtain', 'floor mat',
                                             'ceiling')
    assert len(sfs.SALIENT_CLASSES_40) == 32


def test_one_based_png_convention():
    # 0 = unlabelled, 1 bed (salient), 5 floor, 12 wall, 13 window
    seg = np.array([[0, 1, 5], [12, 13, 7]], np.uint8)
    mask = sfs.saliency_from_semantic(seg, 13)
    np.testing.assert_array_equal(mask, [[255, 1, 0], [0, 0, 1]])
    assert mask.dtype == np.uint8


def test_zero_based_npy_convention():
    # -1 = ignore, 0 bed, 11 wall, 6 objects
    seg = np.array([[-1, 0], [11, 6]], np.int64)
    mask = sfs.saliency_from_semantic(seg, 13, one_based=False)
    np.testing.assert_array_equal(mask, [[255, 1], [0, 1]])
    mask = sfs.saliency_from_semantic(seg.astype(np.float32), 13, False)
    np.testing.assert_array_equal(mask, [[255, 1], [0, 1]])


def test_forty_classes():
    names = {n: i + 1 for i, n in enumerate(NYUV2_40_CLASSES)}
    seg = np.array([[names['door'], names['otherstructure'], names['lamp']]])
    np.testing.assert_array_equal(
        sfs.saliency_from_semantic(seg, 40), [[0, 1, 1]])
    lut = sfs.salient_class_lut(40)
    assert lut.sum() == 32 and not lut[names['floor mat'] - 1]


def test_bad_labels():
    with pytest.raises(ValueError, match='out of range for 13'):
        sfs.saliency_from_semantic(np.array([[14]]), 13)
    with pytest.raises(ValueError, match='out of range'):
        sfs.saliency_from_semantic(np.array([[13]]), 13, one_based=False)
    with pytest.raises(ValueError, match='integer'):
        sfs.saliency_from_semantic(np.array([[1.5]]), 13)
    with pytest.raises(ValueError, match='13 or 40'):
        sfs.saliency_from_semantic(np.array([[1]]), 20)
