import importlib

from mmengine.registry import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every had_mm (and mmseg) module so that all are registered.

    Args:
        init_default_scope (bool): Also make ``had_mm`` the default scope
            (a new instance is created if the current one is another scope).
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
        current = DefaultScope.get_current_instance()
        if current is None or current.scope_name != 'had_mm':
            DefaultScope.get_instance(
                'had_mm-register_all_modules', scope_name='had_mm')
