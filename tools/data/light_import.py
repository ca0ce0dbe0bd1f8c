"""Import a NumPy-only module of ``had_mm.datasets`` without importing
``had_mm`` itself, whose ``__init__`` imports mmengine and mmseg (seconds,
and the full stack) for what the data tools need: encoders, the class
lists, the room generator."""
import importlib
import os.path as osp
import sys
import types
from types import ModuleType

DATASETS_DIR = osp.join(
    osp.dirname(osp.abspath(__file__)), '..', '..', 'had_mm', 'datasets')
# Stand-in package over had_mm/datasets: a module's relative imports of its
# light siblings (``from . import nyuv2_classes``) resolve inside it.
PACKAGE = '_had_mm_light_datasets'


def load_dataset_module(name: str) -> ModuleType:
    """The module ``had_mm/datasets/<name>.py``, imported from its file.

    Args:
        name (str): The module name, e.g. ``'synthetic_rooms'``.

    Returns:
        ModuleType: The module (cached in ``sys.modules`` under the
        stand-in package).
    """
    if PACKAGE not in sys.modules:
        package = types.ModuleType(PACKAGE)
        package.__path__ = [osp.abspath(DATASETS_DIR)]
        sys.modules[PACKAGE] = package
    return importlib.import_module(f'{PACKAGE}.{name}')
