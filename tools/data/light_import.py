"""Import a light (stdlib or NumPy-only) module of ``had_mm`` without
importing ``had_mm`` itself, whose ``__init__`` imports mmengine and mmseg
(seconds, and the full stack), for what the scripts need before that:
encoders, the class lists, the room generator (the data tools) and the
command-line helper ``had_mm.utils.cli`` (every light script, as
``from light_import import cli``)."""
import importlib
import importlib.util
import os.path as osp
import sys
import types
from types import ModuleType

HAD_MM_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'had_mm')
DATASETS_DIR = osp.join(HAD_MM_DIR, 'datasets')
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


def load_cli() -> ModuleType:
    """The module ``had_mm/utils/cli.py`` (stdlib only), imported from its
    file unless ``had_mm`` is imported already.

    Returns:
        ModuleType: ``had_mm.utils.cli``, or its light copy (cached in
        ``sys.modules`` as ``_had_mm_light_cli``).
    """
    if 'had_mm' in sys.modules:  # e.g. the tests: no second copy
        return importlib.import_module('had_mm.utils.cli')
    name = '_had_mm_light_cli'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, osp.join(HAD_MM_DIR, 'utils', 'cli.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


# ``from light_import import cli``: the scripts' one import of the helper
cli = load_cli()
