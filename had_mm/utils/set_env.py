import importlib

from mmengine.registry import init_default_scope as set_default_scope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every had_mm (and mmseg) module so that all are registered.

    Args:
        init_default_scope (bool): Also make ``had_mm`` the default scope
            (a new instance is made current whenever the current one is
            another scope, also on a second call).
    """
    from mmseg.utils import register_all_modules as mmseg_register_all
    mmseg_register_all(init_default_scope=False)
    for name in ('tasks', 'datasets', 'engine', 'evaluation', 'models',
                 'visualization'):
        try:
            importlib.import_module(f'had_mm.{name}')
        except ModuleNotFoundError as err:
            if err.name != f'had_mm.{name}':
                raise
    if init_default_scope:
        # mmengine names each new scope instance uniquely; a fixed name would
        # return the old instance without making it current.
        set_default_scope('had_mm')
