"""Reading and loading checkpoints: the one place for it in had_mm.

Every checkpoint read (``load_from``, ``--resume``, ``tools/test.py``,
teachers, the tools under ``tools/misc``) goes through
:func:`read_checkpoint`, so that a missing file, a directory, a truncated
or corrupt file and a file that needs full unpickling each fail with one
line naming the file; :func:`load_model_checkpoint` loads weights strictly
(testing and inference) or, asked explicitly, partially with a loud
warning.

Without unsafe unpickling: torch >= 2.6 loads with ``weights_only=True``
by default and mmengine 0.10.7 calls ``torch.load`` without the argument,
so its own checkpoints (which hold the message hub's ``HistoryBuffer`` and
NumPy arrays) would fail to load on resume.
Rather than turning full unpickling back on, we allow-list exactly the types
that mmengine itself writes. A checkpoint that needs anything else still
fails, and :func:`explain_unpickling_error` turns torch's long message into a
one-line diagnosis with the fix.
"""
import logging
import os.path as osp
import pickle
import re
import warnings
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log

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


def _history_buffer_getattr(obj: object, name: str) -> object:
    """The only ``getattr`` an mmengine checkpoint needs.

    A ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; allowing the builtin ``getattr``
    itself would let a pickle reach any attribute of any allowed object.
    """
    from mmengine.logging import HistoryBuffer

    # the built-in statistics are registered lazily, on the first buffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint')


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
            f'{what}), which had_mm does not do silently. If you trust its '
            f'source, extract its weights once with `python '
            f'tools/misc/extract_weights.py {path} OUT.pth` and load OUT.pth.')


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
    from mmengine.runner.checkpoint import _load_checkpoint
    check_checkpoint_path(path, what)
    register_checkpoint_safe_globals()
    try:
        return _load_checkpoint(path, map_location=map_location)
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
    revise_keys: Sequence[Tuple[str, str]] = ((r'^module\.', ''), )
) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint, with ``revise_keys`` applied.

    Args:
        checkpoint (dict): A checkpoint (or a bare state dict).
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` applied
            to every key; default strips a DDP ``module.`` prefix.

    Returns:
        dict[str, Tensor]: The (revised) state dict.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else checkpoint
    for pattern, repl in revise_keys:
        state = OrderedDict(
            (re.sub(pattern, repl, k), v) for k, v in state.items())
    return state


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
                          revise_keys: Sequence[Tuple[str,
                                                      str]] = ((r'^module\.',
                                                                ''), ),
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
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
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
    _load_checkpoint_to_model(
        target, checkpoint, strict=False, revise_keys=list(revise_keys))
    return checkpoint
