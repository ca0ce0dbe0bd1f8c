"""derive_saliency.py --min-area: scikit-image cleaning of derived masks."""
import importlib.util
import json
import os.path as osp

import numpy as np
from PIL import Image
from tool_runner import REPO

SPEC = importlib.util.spec_from_file_location(
    'derive_saliency', osp.join(REPO, 'tools', 'data', 'derive_saliency.py'))
derive_saliency = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(derive_saliency)


def _mask():
    """A 12x12 mask: one 6x6 object with a 1-pixel hole, a 2-pixel speck,
    and an unlabelled pixel inside the object and one in the background."""
    mask = np.zeros((12, 12), np.uint8)
    mask[2:8, 2:8] = 1
    mask[4, 4] = 0  # a hole
    mask[5, 6] = 255  # unlabelled, inside the object
    mask[10, 10:12] = 1  # a speck
    mask[0, 11] = 255
    return mask


def test_clean_mask():
    mask = _mask()
    assert derive_saliency.clean_mask(mask, 0) is mask
    out = derive_saliency.clean_mask(mask, 3)
    assert out[4, 4] == 1  # the hole is filled
    assert not out[10, 10:12].any()  # the speck is gone
    assert out[5, 6] == 255 and out[0, 11] == 255  # unlabelled stays
    assert out[2:8, 2:8].sum() == 35 + 255  # the object is kept
    # a blob of exactly min_area pixels stays
    assert derive_saliency.clean_mask(mask, 2)[10, 10:12].all()


def test_derive_with_min_area(synthetic_rooms_root, tmp_path):
    import shutil
    root = str(tmp_path / 'rooms')
    shutil.copytree(synthetic_rooms_root, root)
    plain = derive_saliency.derive(root, overwrite=True)
    cleaned = derive_saliency.derive(root, overwrite=True, min_area=20)
    assert plain['min_area'] == 0 and cleaned['min_area'] == 20
    assert json.load(open(osp.join(root,
                                   'derived_saliency.json')))['min_area'] == 20
    png = np.array(
        Image.open(osp.join(root, 'saliency', 'train', '00001.png')))
    assert set(np.unique(png)) <= {0, 255}
