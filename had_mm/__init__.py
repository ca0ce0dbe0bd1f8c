"""had_mm: lifelong and cross-architecture distillation for dense prediction.

Importing the package registers every had_mm component in the ``had_mm``
scope (children of MMSegmentation's registries), so a stock mmseg config can
use them through ``custom_imports = dict(imports=['had_mm'])``.
"""
from .checkpoint import register_checkpoint_safe_globals
from .utils import register_all_modules
from .version import __version__  # noqa: F401

register_checkpoint_safe_globals()
register_all_modules(init_default_scope=False)
