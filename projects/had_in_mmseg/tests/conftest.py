import os.path as osp
import sys

import pytest

# the project package is imported as projects.had_in_mmseg.had_in_mmseg,
# the way custom_imports does, from the repo root
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


@pytest.fixture(scope='session')
def rooms_root(tmp_path_factory) -> str:
    """A small synthetic-rooms set on disk (toolkit layout), made once."""
    from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
    root = str(tmp_path_factory.mktemp('had_in_mmseg_rooms'))
    generate_synthetic_rooms(root, num=16, size=(32, 40), seed=0)
    return root
