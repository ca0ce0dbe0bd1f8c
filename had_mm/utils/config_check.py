"""Early, one-line diagnoses for configs that would fail deep in a build."""
import difflib
import importlib
import inspect
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.registry import FUNCTIONS, Registry

from had_mm import registry as had_mm_registry

# Config keys that are not arguments of the class they build.
NOT_ARGUMENTS = ('type', '_scope_')


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


def is_positive_int(value) -> bool:
    """Whether ``value`` is an integer > 0 (``True`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and \
        value > 0


def unknown_kwargs(target: Callable,
                   cfg: dict,
                   where: str,
                   ignore: Sequence[str] = NOT_ARGUMENTS) -> List[str]:
    """Name every key of ``cfg`` that ``target`` does not take.

    Args:
        target (callable): A class (its ``__init__`` is read) or function.
        cfg (dict): The config of the call (``type`` and ``ignore`` keys
            are not arguments).
        where (str): The config path, for messages (e.g. ``'train_cfg'``).
        ignore (Sequence[str]): Keys that are not arguments.

    Returns:
        list[str]: One line per unknown key with the valid ones (none when
        ``target`` takes ``**kwargs`` without naming them in
        ``mmseg_loss_args``).
    """
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return []
    # a class that names what its **kwargs take (had_mm's losses: mmseg's
    # loss arguments) is checked against those names too
    named_kwargs = tuple(getattr(target, 'mmseg_loss_args', None) or ())
    if any(p.kind is p.VAR_KEYWORD
           for p in params.values()) and not named_kwargs:
        return []
    valid = [
        name for name, p in params.items() if p.kind not in
        (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name not in ignore
    ] + [name for name in named_kwargs if name not in params]
    name = getattr(target, '__name__', str(target))
    problems = []
    for key in cfg:
        if key in ignore or key in valid:
            continue
        close = difflib.get_close_matches(key, valid, 1)
        hint = f' Did you mean "{close[0]}"?' if close else ''
        problems.append(f'{where}.{key}: {name} has no argument "{key}"; '
                        f'valid ones are {", ".join(valid)}.{hint}')
    return problems


def _train_loop_class(train_cfg: dict) -> Optional[type]:
    """The class mmengine builds from ``train_cfg`` (None if unknown)."""
    from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
    loop_type = train_cfg.get('type')
    if loop_type is None:
        return EpochBasedTrainLoop if train_cfg.get('by_epoch', True) \
            else IterBasedTrainLoop
    if isinstance(loop_type, type):
        return loop_type
    try:
        return had_mm_registry.LOOPS.get(loop_type)
    except (KeyError, ImportError):
        return None


def check_train_cfg(cfg: Config) -> List[str]:
    """Check ``train_cfg`` before anything is built.

    Every key must be an argument of the train loop (a typo lists the
    valid ones); a loop with a ``check_cfg`` classmethod (e.g.
    :class:`~had_mm.engine.LifelongTrainLoop`: phases, schedules,
    distillation loss and teacher arguments) checks its own values.

    Args:
        cfg (Config): The full config.

    Returns:
        list[str]: One line per problem.
    """
    train_cfg = cfg.get('train_cfg')
    if not isinstance(train_cfg, (dict, ConfigDict)):
        return []
    train_cfg = dict(train_cfg)
    loop_cls = _train_loop_class(train_cfg)
    if loop_cls is None:
        return []  # an unknown type is reported by find_unknown_types
    # runner and dataloader are passed by the runner, by_epoch picks the
    # loop of a config without type
    problems = unknown_kwargs(
        loop_cls,
        train_cfg,
        'train_cfg',
        ignore=NOT_ARGUMENTS + ('by_epoch', 'runner', 'dataloader'))
    check = getattr(loop_cls, 'check_cfg', None)
    if callable(check):
        problems += check(train_cfg)
    return problems


def check_config(cfg: Config) -> List[str]:
    """All the checks of a config that need no building.

    Unknown ``type`` names first (the arguments of an unknown type cannot
    be checked), then :func:`check_train_cfg`.

    Args:
        cfg (Config): A loaded config (its default scope must be set up).

    Returns:
        list[str]: One line per problem; empty if the config is fine.
    """
    problems = find_unknown_types(cfg)
    if problems:
        return problems
    return check_train_cfg(cfg)
