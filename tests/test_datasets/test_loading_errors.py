"""Files the loaders must refuse, each in one line naming the file."""
import glob
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from had_mm.datasets.transforms import (LoadMultiTaskAnnotations,
                                        LoadMultiTaskImage)


def _first(root, kind):
    return sorted(glob.glob(osp.join(root, kind, 'train', '*.png')))[0]


def _labels(path, task, img_shape=None, **extra):
    results = {f'{task}_path': path, 'tasks': [task], **extra}
    if img_shape is not None:
        results['img_shape'] = img_shape
    return LoadMultiTaskAnnotations().transform(results)


def _truncate(src, dst):
    data = open(src, 'rb').read()
    with open(dst, 'wb') as f:
        f.write(data[:len(data) // 2])
    return str(dst)


def test_8bit_depth_png_is_refused(synthetic_rooms_root, tmp_path):
    depth16 = np.asarray(Image.open(_first(synthetic_rooms_root, 'depth')))
    assert depth16.dtype == np.uint16
    path = str(tmp_path / 'depth8.png')
    Image.fromarray((depth16 // 256).astype(np.uint8)).save(path)
    with pytest.raises(ValueError) as err:
        _labels(path, 'depth')
    msg = str(err.value)
    assert path in msg and 'uint8 PNG' in msg and '16-bit' in msg
    assert '.npy' in msg and '\n' not in msg
    # the 16-bit file loads, in metres
    res = _labels(_first(synthetic_rooms_root, 'depth'), 'depth')
    assert res['gt_depth_map'].max() > 0.5


@pytest.mark.parametrize('bad', [np.nan, np.inf])
def test_non_finite_npy_image_is_refused(tmp_path, bad):
    img = np.random.default_rng(0).random((6, 8, 3)).astype(np.float32)
    img[2, 3, 1] = bad
    path = str(tmp_path / 'img.npy')
    np.save(path, img)
    with pytest.raises(ValueError) as err:
        LoadMultiTaskImage().transform(dict(img_path=path))
    assert path in str(err.value) and 'NaN/inf' in str(err.value)
    img[2, 3, 1] = 0.5
    np.save(path, img)
    out = LoadMultiTaskImage().transform(dict(img_path=path))
    assert out['img'].dtype == np.uint8


@pytest.mark.parametrize('kind,task',
                         [('seg13', 'semantic'), ('depth', 'depth'),
                          ('normal', 'normal'), ('saliency', 'saliency')])
def test_truncated_label_png_names_the_file(synthetic_rooms_root, tmp_path,
                                            kind, task):
    path = _truncate(_first(synthetic_rooms_root, kind), tmp_path / 'x.png')
    with pytest.raises(ValueError) as err:
        _labels(path, task)
    msg = str(err.value)
    assert path in msg and 'truncated or corrupt' in msg and '\n' not in msg


def test_truncated_image_names_the_file(synthetic_rooms_root, tmp_path):
    path = _truncate(_first(synthetic_rooms_root, 'image'), tmp_path / 'x.png')
    with pytest.raises(ValueError) as err:
        LoadMultiTaskImage().transform(dict(img_path=path))
    assert path in str(err.value) and 'truncated or corrupt' in str(err.value)


def test_out_of_range_class_is_reported_as_stored(synthetic_rooms_root,
                                                  tmp_path):
    seg = np.asarray(Image.open(_first(synthetic_rooms_root, 'seg13')))
    seg = seg.copy()
    seg[0, 0] = 20  # class 20 of a 1-based 13-class PNG
    path = str(tmp_path / 'seg.png')
    Image.fromarray(seg).save(path)
    with pytest.raises(ValueError) as err:
        _labels(path, 'semantic', num_classes=13)
    msg = str(err.value)
    assert path in msg and 'holds value 20' in msg and '1..13' in msg
