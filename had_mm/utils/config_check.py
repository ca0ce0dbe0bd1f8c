"""Early, one-line diagnoses for configs that would fail deep in a build."""
import difflib
import importlib
from typing import Iterator, List, Optional, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.registry import FUNCTIONS, Registry

from had_mm import registry as had_mm_registry


def _registries() -> List[Registry]:
    regs = [
        obj for obj in vars(had_mm_registry).values()
        if isinstance(obj, Registry)
    ]
    return regs + [FUNCTIONS]


def _iter_types(node, path: str = '') -> Iterator[Tuple[str, str]]:
    """Yield ``(dotted_path, type_name)`` for every string ``type`` key."""
    if isinstance(node, (dict, ConfigDict)):
        value = node.get('type')
        if isinstance(value, str):
            yield path or '<root>', value
        for key, child in node.items():
            yield from _iter_types(child, f'{path}.{key}' if path else key)
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            yield from _iter_types(child, f'{path}[{i}]')


def _known_names(regs: List[Registry]) -> List[str]:
    names = set()
    for reg in regs:
        current: Optional[Registry] = reg
        while current is not None:
            names.update(current.module_dict.keys())
            current = current.parent
    return sorted(names)


def _lookup(regs: List[Registry], type_name: str) -> bool:
    scope, _ = Registry.split_scope_key(type_name)
    if scope is not None:
        try:  # a scope's registries exist once its package is imported
            importlib.import_module(f'{scope}.registry')
        except ImportError:
            return False
    for reg in regs:
        try:
            if reg.get(type_name) is not None:
                return True
        except (KeyError, ImportError):
            continue
    return False


def find_unknown_types(cfg: Config) -> List[str]:
    """Return a message for every ``type`` that no registry knows.

    Args:
        cfg (Config): A loaded config (its default scope must be set up).

    Returns:
        list[str]: One line per unknown type, with close matches.
    """
    regs = _registries()
    known = None
    problems = []
    for path, type_name in _iter_types(cfg.to_dict()):
        if _lookup(regs, type_name):
            continue
        known = known if known is not None else _known_names(regs)
        close = difflib.get_close_matches(type_name.split('.')[-1], known, 3)
        hint = f' Did you mean: {", ".join(close)}?' if close else ''
        problems.append(f'{path}: unknown type "{type_name}" (not in the '
                        f'had_mm, mmseg or mmengine registries).{hint}')
    return problems
