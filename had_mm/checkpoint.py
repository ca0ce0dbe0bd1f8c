"""Reading and loading checkpoints: the one place for it in had_mm.

It lives at the top of the package, beside ``registry.py``, because every
layer needs it: the runner (``load_from``, ``--resume``), the teachers of
the models, the inference API and the tools, projects included. It only
needs torch, NumPy and mmengine, so ``models/`` can use it without
importing ``engine/`` and no layer imports one above it.

Every checkpoint read goes through :func:`read_checkpoint`, so that a
missing file, a directory, a truncated or corrupt file and a file that
needs full unpickling each fail with one line naming the file;
:func:`load_model_checkpoint` loads weights strictly (testing and
inference) or, asked explicitly, partially with a loud warning.

Without unsafe unpickling: torch >= 2.6 loads with ``weights_only=True``
by default and mmengine 0.10.7 calls ``torch.load`` without the argument,
so its own checkpoints (which hold the message hub's ``HistoryBuffer`` and
NumPy arrays) would fail to load on resume.
Rather than turning full unpickling back on, we allow-list exactly the types
that mmengine itself writes. A checkpoint that needs anything else still
fails, and :func:`explain_unpickling_error` turns torch's long message into a
one-line diagnosis with the fix.

The fix, :func:`read_foreign_checkpoint` (``tools/misc/extract_weights.py``),
reads such a file with a restricted unpickler that puts an inert
:class:`ForeignObject` in place of every object it does not know, so that
the tensors of even an untrusted file can be extracted without running any
of its code.
"""
import codecs
import logging
import os.path as osp
import pickle
import re
import types
import warnings
import zipfile
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log

#: ``(pattern, replacement)`` key rewrites: strip a DDP ``module.`` prefix.
DDP_PREFIX = ((r'^module\.', ''), )

_REGISTERED = False


def _numpy_globals() -> List[object]:
    """NumPy objects needed to rebuild arrays and scalars from a pickle."""
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [
        type(np.dtype(code)) for code in np.typecodes['All']
        if code not in ('M', 'm', 'O', 'V')
    ]
    return [_reconstruct, scalar, np.ndarray, np.dtype] + dtype_classes


def _history_buffer_statistic(obj: object, name: str) -> Optional[object]:
    """``getattr(obj, name)`` if it is a ``HistoryBuffer`` statistic."""
    from mmengine.logging import HistoryBuffer

    # the built-in statistics are registered lazily, on the first buffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    return None


def _history_buffer_getattr(obj: object, name: str) -> object:
    """The only ``getattr`` an mmengine checkpoint needs.

    A ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; allowing the builtin ``getattr``
    itself would let a pickle reach any attribute of any allowed object.
    """
    found = _history_buffer_statistic(obj, name)
    if found is None:
        raise pickle.UnpicklingError(
            f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint')
    return found


def register_checkpoint_safe_globals() -> None:
    """Allow-list the types in mmengine checkpoints for ``weights_only``.

    Idempotent; a no-op on torch versions without ``add_safe_globals``.
    """
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'add_safe_globals'):
        return
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] +
        _numpy_globals())
    _REGISTERED = True


def explain_unpickling_error(path: str, err: BaseException) -> Optional[str]:
    """Return a one-line message for a checkpoint refused by ``weights_only``.

    Args:
        path (str): The checkpoint that failed to load.
        err (BaseException): The exception ``torch.load`` raised.

    Returns:
        str | None: The message, or None if ``err`` is not such a refusal.
    """
    text = str(err)
    if 'Weights only load failed' not in text and \
            'Unsupported global' not in text:
        return None
    found = re.search(r'Unsupported global: GLOBAL ([\w.]+)', text)
    what = found.group(1) if found else 'an object that is not a tensor'
    return (f'checkpoint "{path}" needs full unpickling (it contains '
            f'{what}), which had_mm does not do. Extract its weights once '
            f'with `python tools/misc/extract_weights.py {path} OUT.pth` '
            f'(it runs none of the file\'s code) and load OUT.pth.')


class CheckpointLoadError(RuntimeError):
    """A checkpoint exists but cannot be loaded safely or is incompatible."""


class UnreadableCheckpointError(CheckpointLoadError):
    """A checkpoint file is truncated or corrupt (e.g. a killed save)."""


def explain_load_error(path: str, err: BaseException) -> Optional[str]:
    """Return a one-line message for any failure to read a checkpoint file.

    Covers the ``weights_only`` refusal (see
    :func:`explain_unpickling_error`) and unreadable files: truncated or
    corrupt archives (torch's ``PytorchStreamReader`` error), empty files
    and other pickles that break off.

    Args:
        path (str): The checkpoint that failed to load.
        err (BaseException): The exception the loader raised.

    Returns:
        str | None: The message, or None if ``err`` is no read failure
        (e.g. ``KeyboardInterrupt``).
    """
    msg = explain_unpickling_error(path, err)
    if msg is not None:
        return msg
    if not isinstance(err, Exception):
        return None
    text = str(err).strip().splitlines()
    # torch's corrupt-archive message is a paragraph: its first sentence
    # says enough
    reason = text[0].split('. ')[0] if text and text[0] else \
        type(err).__name__
    return (f'checkpoint "{path}" cannot be read: it is truncated or '
            f'corrupt ({reason}); use another checkpoint (an interrupted '
            f'save leaves such a file) or write it again.')


def check_checkpoint_path(path: str, what: str = 'checkpoint') -> None:
    """Raise a one-line error unless a local ``path`` is a file.

    URLs (``scheme://``) are left to the loader.

    Args:
        path (str): The checkpoint path.
        what (str): How to call it in the message (e.g. ``'load_from
            checkpoint'``).

    Raises:
        CheckpointLoadError: If ``path`` is a directory.
        FileNotFoundError: If it does not exist.
    """
    if '://' in path:
        return
    if osp.isdir(path):
        raise CheckpointLoadError(
            f'{what} "{path}" is a directory, not a checkpoint file; pass '
            f'a .pth file in it (its last_checkpoint file names the newest).')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{what} "{path}" does not exist; pass the path of a .pth file '
            f'written by tools/train.py.')


def read_checkpoint(path: str,
                    map_location: Union[str, Callable, None] = 'cpu',
                    what: str = 'checkpoint') -> dict:
    """Read a checkpoint with one-line errors that name the file.

    Goes through mmengine's loader (local files, URLs, ``open-mmlab://``;
    ``weights_only`` with had_mm's allow-list under torch >= 2.6).

    Args:
        path (str): The checkpoint.
        map_location (str | callable): Where to map the tensors.
        what (str): How to call the file in messages.

    Returns:
        dict: The checkpoint.

    Raises:
        FileNotFoundError: If a local ``path`` does not exist.
        UnreadableCheckpointError: If it is truncated or corrupt.
        CheckpointLoadError: If it is a directory or needs full
            unpickling.
    """
    from mmengine.runner import CheckpointLoader
    check_checkpoint_path(path, what)
    register_checkpoint_safe_globals()
    try:
        return CheckpointLoader.load_checkpoint(path, map_location)
    except Exception as err:  # torch raises many types for a bad file
        msg = explain_unpickling_error(path, err)
        if msg is not None:
            raise CheckpointLoadError(msg) from None
        msg = explain_load_error(path, err)
        if msg is None:
            raise
        raise UnreadableCheckpointError(msg) from None


def state_dict_of(
    checkpoint: dict,
    revise_keys: Sequence[Tuple[str, str]] = DDP_PREFIX
) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint, with ``revise_keys`` applied.

    The same rewrite as mmengine's loader; the state dict's version
    metadata is kept, which old BatchNorm layers need on loading.

    Args:
        checkpoint (dict): A checkpoint (or a bare state dict).
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` applied
            to every key; default strips a DDP ``module.`` prefix.

    Returns:
        dict[str, Tensor]: The (revised) state dict.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else checkpoint
    metadata = getattr(state, '_metadata', None)
    state = OrderedDict(state)
    for pattern, repl in revise_keys:
        state = OrderedDict(
            (re.sub(pattern, repl, k), v) for k, v in state.items())
    if metadata is not None:
        state._metadata = metadata
    return state


def load_into_model(
        model: torch.nn.Module,
        checkpoint: dict,
        revise_keys: Sequence[Tuple[str, str]] = DDP_PREFIX) -> None:
    """Load a checkpoint's weights into ``model``, not strictly: mmengine
    logs a warning naming the keys that do not fit.

    Args:
        model (nn.Module): The model (not a wrapper).
        checkpoint (dict): A checkpoint (or a bare state dict).
        revise_keys (Sequence[tuple]): See :func:`state_dict_of`.
    """
    from mmengine.runner import load_state_dict
    load_state_dict(model, state_dict_of(checkpoint, revise_keys))


def strip_prefix(state: Dict[str, Any], prefix: str) -> Dict[str, Any]:
    """The entries of ``state`` under ``prefix``, with the prefix removed.

    E.g. the segmentor of a distiller (``'segmentor.'``) or the backbone of
    a classifier (``'backbone.'``); the other entries are dropped.

    Args:
        state (dict): A state dict.
        prefix (str): The key prefix, with its trailing dot.

    Returns:
        dict: The selected entries, in their order.
    """
    return OrderedDict(
        (k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))


def load_weights(path: str) -> Dict[str, torch.Tensor]:
    """Load the ``state_dict`` of a trusted mmengine checkpoint.

    Args:
        path (str): Checkpoint file.

    Returns:
        dict[str, Tensor]: The weights, DDP ``module.`` prefix stripped.

    Raises:
        CheckpointLoadError: If the file cannot be read, needs full
            unpickling or holds no weights.
    """
    ckpt = read_checkpoint(path)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointLoadError(
            f'checkpoint "{path}" holds no state_dict of tensors')
    return state_dict_of(state)


def check_state_dict(model: nn.Module,
                     state: Dict[str, torch.Tensor],
                     what: str = 'checkpoint') -> None:
    """Raise a one-line error unless ``state`` fits ``model`` exactly.

    BatchNorm's ``num_batches_tracked`` may be missing (as in mmengine).

    Args:
        model (nn.Module): The model to load into.
        state (dict): The weights.
        what (str): How to call the weights in the message (e.g.
            ``'teacher checkpoint "x.pth" for config "y.py"'``).

    Raises:
        ValueError: Naming the first key whose shape differs (both shapes)
            and the first missing / unexpected keys.
    """
    problems = state_dict_mismatch(model, state)
    if problems is not None:
        raise ValueError(f'{what} does not fit: {problems}')


def load_state_dict_strictly(model: nn.Module,
                             state: Dict[str, torch.Tensor],
                             what: str = 'checkpoint') -> None:
    """Load ``state`` into ``model`` after checking that it fits exactly.

    Args:
        model (nn.Module): The model to load into.
        state (dict): The weights (keys already revised).
        what (str): How to call the weights in messages.

    Raises:
        ValueError: See :func:`check_state_dict`; nothing is loaded then.
    """
    # checked first: torch's own error lists every key, on many lines
    check_state_dict(model, state, what)
    model.load_state_dict(state, strict=True)


def state_dict_mismatch(model: nn.Module,
                        state: Dict[str, torch.Tensor]) -> Optional[str]:
    """Describe how ``state`` differs from ``model``'s weights.

    Args:
        model (nn.Module): The model.
        state (dict): The weights.

    Returns:
        str | None: The first mismatching shape and the first missing and
        unexpected keys (with their counts), or None if they fit.
    """
    expected = model.state_dict()
    missing = [
        k for k in expected
        if k not in state and not k.endswith('num_batches_tracked')
    ]
    unexpected = [k for k in state if k not in expected]
    parts = []
    for key, value in expected.items():
        if key in state and tuple(state[key].shape) != tuple(value.shape):
            parts.append(f'first mismatching key "{key}" has shape '
                         f'{tuple(state[key].shape)} in the checkpoint but '
                         f'{tuple(value.shape)} in the model')
            break
    if missing:
        parts.append(f'{len(missing)} missing keys (first: "{missing[0]}")')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys (first: '
                     f'"{unexpected[0]}")')
    if not parts:
        return None
    hint = ''
    if any(k.startswith('student.') for k in unexpected):
        hint = (' It looks like a distiller checkpoint: extract its student '
                'with tools/misc/extract_student.py first.')
    return '; '.join(parts) + f' (a checkpoint of another config?).{hint}'


def load_model_checkpoint(model: nn.Module,
                          path: str,
                          strict: bool = True,
                          map_location: Union[str, Callable, None] = 'cpu',
                          revise_keys: Sequence[Tuple[str, str]] = DDP_PREFIX,
                          what: str = 'checkpoint',
                          checkpoint: Optional[dict] = None) -> dict:
    """Load a checkpoint's weights into ``model``, strictly by default.

    What testing and inference use: with ``strict`` a checkpoint of
    another config (other backbone, class count or heads) is refused with
    one line naming the first mismatching shape and the first missing or
    unexpected key. ``strict=False`` loads what fits and warns loudly
    about what does not (those weights stay as initialised).

    Args:
        model (nn.Module): The model (a DDP or TTA wrapper is unwrapped).
        path (str): The checkpoint.
        strict (bool): Refuse any mismatch. Defaults to True.
        map_location (str | callable): Where to map the tensors.
        revise_keys (Sequence[tuple]): Key rewrites; default strips
            ``module.``.
        what (str): How to call the file in messages.
        checkpoint (dict, optional): The checkpoint if already read from
            ``path``.

    Returns:
        dict: The checkpoint.

    Raises:
        CheckpointLoadError: If the file cannot be read, or with
            ``strict`` if its weights do not fit the model.
    """
    from mmengine.model import BaseTTAModel, is_model_wrapper
    if checkpoint is None:
        checkpoint = read_checkpoint(path, map_location, what)
    target = model
    while is_model_wrapper(target) or isinstance(target, BaseTTAModel):
        target = target.module
    problems = state_dict_mismatch(target,
                                   state_dict_of(checkpoint, revise_keys))
    if problems is not None:
        if strict:
            raise CheckpointLoadError(
                f'{what} "{path}" does not fit the model: {problems} Pass '
                f'the checkpoint of this config, or load only the weights '
                f'that fit on purpose (tools/test.py --partial-load).')
        print_log(
            f'PARTIAL LOAD of {what} "{path}": {problems} The weights '
            f'that do not fit stay randomly initialised, so results do '
            f'not measure this checkpoint.',
            logger='current',
            level=logging.WARNING)
        warnings.warn(f'partial load of "{path}": {problems}')
    load_into_model(target, checkpoint, revise_keys)
    return checkpoint


# --- foreign checkpoints: tensors out, none of the file's code run ---------


class ForeignObject:
    """What :func:`read_foreign_checkpoint` puts in place of an object.

    Every global of the pickle that is not a tensor rebuild function, a
    storage or one of a few plain types (see :class:`RestrictedUnpickler`)
    becomes a subclass of this, named after it: calling it, creating it
    and setting its state only record the arguments, so nothing of the
    pickle runs.

    Attributes:
        target (str): The global it stands for, e.g. ``'posix.system'``.
        args (tuple): Positional arguments it was called / created with.
        state (object): What the pickle set as its state, if anything.
        items (dict): Items the pickle set on it.
        elements (list): Elements the pickle appended or added to it.
    """

    target = '?'

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj.args = args
        obj.state = None
        obj.items = {}
        obj.elements = []
        return obj

    def __init__(self, *args, **kwargs) -> None:
        pass  # __new__ recorded the arguments

    def __call__(self, *args, **kwargs) -> 'ForeignObject':
        # a pickle may call what it built (e.g. getattr(x, 'y')(...))
        return type(self)(*args)

    def __setstate__(self, state: object) -> None:
        self.state = state

    def __setitem__(self, key: object, value: object) -> None:
        self.items[key] = value

    def append(self, value: object) -> None:
        self.elements.append(value)

    def extend(self, values: Sequence) -> None:
        self.elements.extend(values)

    def add(self, value: object) -> None:
        self.elements.append(value)

    def __repr__(self) -> str:
        return f'<{self.target} (not loaded)>'


def _tensor_rebuild_functions() -> Dict[str, Callable]:
    """torch's functions that rebuild tensors from storages, by name."""
    import torch._utils as torch_utils
    names = ('_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3',
             '_rebuild_parameter', '_rebuild_parameter_with_state',
             '_rebuild_qtensor', '_rebuild_sparse_tensor',
             '_rebuild_nested_tensor', '_rebuild_meta_tensor_no_storage',
             '_rebuild_device_tensor_from_cpu_tensor')
    return {
        f'torch._utils.{name}': getattr(torch_utils, name)
        for name in names if hasattr(torch_utils, name)
    }


def _rebuild_from_type_v2(func: Callable, new_type: object, args: tuple,
                          state: object) -> object:
    """torch's rebuild of a tensor with Python state, without the state.

    The type and the attributes are dropped (they are globals of the
    file); the tensor itself is rebuilt if ``func`` is a tensor rebuild
    function.
    """
    if func in _tensor_rebuild_functions().values():
        return func(*args)
    return _stub('torch._tensor._rebuild_from_type_v2')(func, new_type, args,
                                                        state)


def _lenient_getattr(obj: object, name: str) -> object:
    """``getattr`` for the statistics of a ``HistoryBuffer``, else a stub."""
    found = _history_buffer_statistic(obj, name)
    if found is None:
        return _stub('builtins.getattr')(obj, name)
    return found


def _stub(target: str) -> type:
    """A :class:`ForeignObject` subclass standing for ``target``."""
    return type(
        target.rsplit('.', 1)[-1], (ForeignObject, ),
        dict(target=target, __module__=__name__))


def _restricted_globals() -> Dict[str, object]:
    """The globals :class:`RestrictedUnpickler` resolves for real.

    Tensors, storages, dtypes and a few plain builtins; for mmengine's
    own checkpoints also the types of :func:`_numpy_globals` and
    ``HistoryBuffer`` (the ``weights_only`` allow-list).
    """
    from mmengine.logging import HistoryBuffer
    allowed: Dict[str, object] = dict(_tensor_rebuild_functions())
    allowed.update({
        'torch._tensor._rebuild_from_type_v2': _rebuild_from_type_v2,
        'torch.Size': torch.Size,
        'torch.device': torch.device,
        'collections.OrderedDict': OrderedDict,
        # protocol 2 pickles bytes as _codecs.encode(str, 'latin1')
        '_codecs.encode': codecs.encode,
        'builtins.bytes': bytes,
        'builtins.bytearray': bytearray,
        'builtins.set': set,
        'builtins.frozenset': frozenset,
        'builtins.complex': complex,
        'builtins.getattr': _lenient_getattr,
    })
    allowed[f'{HistoryBuffer.__module__}.{HistoryBuffer.__qualname__}'] = \
        HistoryBuffer
    # torch.save pickles with protocol 2, which names builtins __builtin__
    allowed.update({
        f'__builtin__.{k[len("builtins."):]}': v
        for k, v in allowed.items() if k.startswith('builtins.')
    })
    if hasattr(torch.serialization, '_get_layout'):
        allowed['torch.serialization._get_layout'] = \
            torch.serialization._get_layout
    for obj in _numpy_globals():
        module = obj.__module__
        allowed[f'{module}.{obj.__name__}'] = obj
        # files written with NumPy 1.x name numpy.core, with 2.x numpy._core
        for old, new in [('numpy.core.', 'numpy._core.'),
                         ('numpy._core.', 'numpy.core.')]:
            if module.startswith(old):
                allowed[f'{new}{module[len(old):]}.{obj.__name__}'] = obj
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that imports nothing but tensor machinery.

    ``find_class`` returns the real object only for the names of
    :func:`_restricted_globals` and for torch's dtypes, layouts, memory
    formats, quantisation schemes and storage classes; any other global
    (``os.system``, a class of another code base, ...) becomes an inert
    :class:`ForeignObject` subclass, so that loading runs none of the
    file's code. Used by ``torch.load`` as its ``pickle_module``.
    """

    _allowed: Optional[Dict[str, object]] = None

    def find_class(self, module: str, name: str) -> object:
        if RestrictedUnpickler._allowed is None:
            RestrictedUnpickler._allowed = _restricted_globals()
        target = f'{module}.{name}'
        found = RestrictedUnpickler._allowed.get(target)
        if found is not None:
            return found
        if module == 'torch' and name.isidentifier():
            obj = getattr(torch, name, None)
            if isinstance(obj, (torch.dtype, torch.layout, torch.memory_format,
                                torch.qscheme)):
                return obj
            if isinstance(obj, type) and name.endswith('Storage') and (
                    issubclass(obj, torch.storage.TypedStorage)
                    or obj is torch.UntypedStorage):
                return obj
        return _stub(target)


def _restricted_pickle_module() -> types.ModuleType:
    """A ``pickle``-like module for ``torch.load(pickle_module=...)``."""
    module = types.ModuleType('had_mm_restricted_pickle')
    module.Unpickler = RestrictedUnpickler
    module.UnpicklingError = pickle.UnpicklingError
    module.load = _restricted_load
    return module


def _restricted_load(file: Any, **kwargs) -> object:
    """``pickle.load`` with :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(file, **kwargs).load()


def read_foreign_checkpoint(path: str) -> object:
    """Read any checkpoint file without running its code.

    For a file that :func:`read_checkpoint` refuses (it needs full
    unpickling): tensors and mmengine's own types are rebuilt, every
    other object is an inert :class:`ForeignObject`. TorchScript archives
    are refused (torch would hand them to ``torch.jit.load``).

    Args:
        path (str): A local checkpoint file.

    Returns:
        object: The checkpoint, tensors on the CPU.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        UnreadableCheckpointError: If it is truncated or corrupt.
        CheckpointLoadError: If it is a directory or a TorchScript archive.
    """
    check_checkpoint_path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.split('/', 1)[-1] == 'constants.pkl' for n in names):
            raise CheckpointLoadError(
                f'checkpoint "{path}" is a TorchScript archive, not a '
                f'checkpoint; load it with torch.jit.load if you trust it.')
    try:
        # a custom pickle_module makes torch.load unpickle with it: every
        # global goes through RestrictedUnpickler.find_class
        return torch.load(
            path,
            map_location='cpu',
            pickle_module=_restricted_pickle_module())
    except Exception as err:  # torch raises many types for a bad file
        msg = explain_load_error(path, err)
        if msg is None:
            raise
        raise UnreadableCheckpointError(msg) from None


def foreign_tensors(
        checkpoint: object,
        path: str = 'checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The tensors of a checkpoint's ``state_dict`` (or of a bare one).

    Args:
        checkpoint (object): From :func:`read_foreign_checkpoint`.
        path (str): Its file, for messages.

    Returns:
        tuple[dict[str, Tensor], list[str]]: The tensors (plain tensors,
        detached) and the keys of the entries that are no tensors
        (skipped).

    Raises:
        CheckpointLoadError: If there is no dict of tensors.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else checkpoint
    if isinstance(state, ForeignObject):
        # a dict type of another code base: its items were recorded
        state = state.items
    if not isinstance(state, dict):
        state = {}
    # detach(): a plain tensor, without attributes or hooks of the file
    tensors = OrderedDict((k, v.detach()) for k, v in state.items()
                          if isinstance(v, torch.Tensor))
    if not tensors:
        raise CheckpointLoadError(
            f'checkpoint "{path}" holds no state_dict of tensors')
    skipped = [str(k) for k in state if k not in tensors]
    return tensors, skipped


def without_foreign_objects(value: object) -> object:
    """``value`` with the :class:`ForeignObject` entries removed.

    Dicts, lists and tuples are cleaned recursively, so the result can be
    saved and read again with ``weights_only``.

    Args:
        value (object): E.g. the ``meta`` of a foreign checkpoint.

    Returns:
        object: The cleaned value (None if ``value`` itself is foreign).
    """
    if isinstance(value, ForeignObject):
        return None
    if isinstance(value, dict):
        kind = OrderedDict if isinstance(value, OrderedDict) else dict
        return kind((k, without_foreign_objects(v)) for k, v in value.items()
                    if not isinstance(k, ForeignObject)
                    and not isinstance(v, ForeignObject))
    if isinstance(value, (list, tuple)):
        kind = tuple if isinstance(value, tuple) else list
        return kind(
            without_foreign_objects(v) for v in value
            if not isinstance(v, ForeignObject))
    return value
