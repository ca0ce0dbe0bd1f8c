import os.path as osp
import sys

import pytest

# the project package is imported as projects.edge_task.edge_task, the way
# custom_imports does, from the repo root
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


@pytest.fixture(scope='session', autouse=True)
def _edge_registered():
    """Register had_mm's and the project's modules once, scope had_mm."""
    import torch
    from mmengine.registry import init_default_scope

    from had_mm.utils import register_all_modules
    torch.set_num_threads(1)
    register_all_modules(init_default_scope=False)
    init_default_scope('had_mm')
    __import__('projects.edge_task.edge_task')


@pytest.fixture(scope='session')
def tiny_rooms(tmp_path_factory) -> str:
    """A few synthetic rooms at 32 x 40 (toolkit layout), made once."""
    from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
    root = str(tmp_path_factory.mktemp('edge_rooms'))
    generate_synthetic_rooms(root, num=16, size=(32, 40), seed=0)
    return root
