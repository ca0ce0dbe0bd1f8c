"""Loading mmengine checkpoints under torch >= 2.6 without unsafe unpickling.

torch >= 2.6 loads with ``weights_only=True`` by default and mmengine 0.10.7
calls ``torch.load`` without the argument, so its own checkpoints (which hold
the message hub's ``HistoryBuffer`` and NumPy arrays) fail to load on resume.
Rather than turning full unpickling back on, we allow-list exactly the types
that mmengine itself writes. A checkpoint that needs anything else still
fails, and :func:`explain_unpickling_error` turns torch's long message into a
one-line diagnosis with the fix.
"""
import pickle
import re
from typing import List, Optional

import numpy as np
import torch

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
