"""The NYUv2 class lists: one stdlib-only module that every user reads."""
import ast
import os.path as osp
import sys

import had_mm.datasets.nyuv2_classes as classes
from had_mm.datasets import saliency_from_semantic, synthetic_rooms

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_imports_nothing_but_the_standard_library():
    tree = ast.parse(open(classes.__file__).read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'no relative import'
            names.add(node.module.split('.')[0])
    assert names <= set(sys.stdlib_module_names), names


def test_one_source_for_every_module():
    assert synthetic_rooms.NYUV2_13_CLASSES is classes.NYUV2_13_CLASSES
    assert synthetic_rooms.NYUV2_13_PALETTE is classes.NYUV2_13_PALETTE
    assert saliency_from_semantic.NYUV2_13_CLASSES is \
        classes.NYUV2_13_CLASSES
    assert saliency_from_semantic.NYUV2_40_CLASSES is \
        classes.NYUV2_40_CLASSES
    assert len(classes.NYUV2_13_CLASSES) == 13
    assert len(classes.NYUV2_40_CLASSES) == 40
    assert len(classes.NYUV2_13_PALETTE) == 13
    assert len(classes.nyuv2_palette(40)) == 40


def test_numpy_modules_load_through_the_light_loader():
    """The data tools import these files through ``load_dataset_module``
    (no had_mm import); their relative import of the class lists resolves
    inside the stand-in package."""
    sys.path.insert(0, osp.join(REPO, 'tools', 'data'))
    try:
        from light_import import PACKAGE, load_dataset_module
    finally:
        sys.path.pop(0)
    for module in (synthetic_rooms, saliency_from_semantic):
        name = osp.basename(module.__file__)[:-3]
        loaded = load_dataset_module(name)
        assert loaded.__name__ == f'{PACKAGE}.{name}'
        assert loaded is not module
        assert loaded.NYUV2_13_CLASSES == classes.NYUV2_13_CLASSES
