"""Teacher checkpoints in, student-only checkpoints out."""
import pickle
from collections import OrderedDict
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.runner import CheckpointLoader

from ..checkpoint import (explain_unpickling_error,
                          register_checkpoint_safe_globals)

#: State-dict prefixes of a :class:`HeteroAKDDistiller`.
STUDENT_PREFIX = 'student.'
STUDENT_ADAPTER_PREFIX = 'student_adapter.'
TEACHER_ADAPTER_PREFIX = 'teacher_adapter.'


def load_weights(path: str) -> Dict[str, torch.Tensor]:
    """Load the ``state_dict`` of a trusted mmengine checkpoint.

    Goes through mmengine's :class:`CheckpointLoader` (``weights_only``
    under torch >= 2.6, with had_mm's allow-list of mmengine types), and
    strips a DDP ``module.`` prefix.

    Args:
        path (str): Checkpoint file.

    Returns:
        dict[str, Tensor]: The weights.

    Raises:
        RuntimeError: If the file needs full unpickling or holds no
            weights.
    """
    register_checkpoint_safe_globals()
    try:
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    except (pickle.UnpicklingError, RuntimeError) as err:
        msg = explain_unpickling_error(path, err)
        if msg is None:
            raise
        raise RuntimeError(msg) from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise RuntimeError(f'checkpoint "{path}" holds no state_dict of '
                           f'tensors')
    return OrderedDict(
        (k[7:] if k.startswith('module.') else k, v) for k, v in state.items())


def check_state_dict(model: nn.Module,
                     state: Dict[str, torch.Tensor],
                     what: str = 'checkpoint') -> None:
    """Raise a one-line error unless ``state`` fits ``model`` exactly.

    Args:
        model (nn.Module): The model to load into.
        state (dict): The weights.
        what (str): How to call the weights in the message (e.g.
            ``'teacher checkpoint "x.pth" for config "y.py"'``).

    Raises:
        ValueError: Naming the first key whose shape differs (both shapes)
            or the first missing / unexpected keys.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    parts = []
    if missing:
        parts.append(f'{len(missing)} missing keys (first: "{missing[0]}")')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys (first: '
                     f'"{unexpected[0]}")')
    hint = ''
    if any(k.startswith(STUDENT_PREFIX) for k in unexpected):
        hint = (' It looks like a distiller checkpoint: extract its student '
                'with tools/misc/extract_student.py first.')
    for key, value in expected.items():
        if key in state and tuple(state[key].shape) != tuple(value.shape):
            also = f'; also {" and ".join(parts)}' if parts else ''
            raise ValueError(
                f'{what} does not fit: first mismatching key "{key}" has '
                f'shape {tuple(state[key].shape)} in the checkpoint but '
                f'{tuple(value.shape)} in the model{also} (a checkpoint of '
                f'another config?).{hint}')
    if parts:
        raise ValueError(f'{what} does not fit: {" and ".join(parts)} (a '
                         f'checkpoint of another config?).{hint}')


def split_distiller_state_dict(
        state: Dict[str, torch.Tensor],
        keep_teacher_adapter: bool = False) -> Dict[str, Dict]:
    """Split a distiller's weights into a student-only checkpoint.

    Args:
        state (dict): ``state_dict`` of a :class:`HeteroAKDDistiller`
            (``module.`` prefixes allowed).
        keep_teacher_adapter (bool): Also keep the teacher's projectors
            under the separate key ``teacher_adapter``. Defaults to False
            (dropped).

    Returns:
        dict: ``state_dict`` (the student, ``student.`` stripped: loads
        into the plain student config with strict key match),
        ``student_adapter`` (the student's projectors, a separate key that
        mmengine's loaders ignore) and, if asked, ``teacher_adapter``.

    Raises:
        ValueError: If ``state`` has no ``student.`` weights.
    """
    student: Dict[str, torch.Tensor] = OrderedDict()
    student_adapter: Dict[str, torch.Tensor] = OrderedDict()
    teacher_adapter: Dict[str, torch.Tensor] = OrderedDict()
    for key, value in state.items():
        if key.startswith('module.'):
            key = key[7:]
        for prefix, out in ((STUDENT_PREFIX, student), (STUDENT_ADAPTER_PREFIX,
                                                        student_adapter),
                            (TEACHER_ADAPTER_PREFIX, teacher_adapter)):
            if key.startswith(prefix):
                out[key[len(prefix):]] = value
                break
    if not student:
        raise ValueError('no "student." weights: not a checkpoint of a '
                         'HeteroAKDDistiller')
    out: Dict[str, Dict] = dict(state_dict=student)
    if student_adapter:
        out['student_adapter'] = student_adapter
    if keep_teacher_adapter and teacher_adapter:
        out['teacher_adapter'] = teacher_adapter
    return out


def student_checkpoint(state: Dict[str, torch.Tensor],
                       meta: Optional[dict] = None,
                       keep_teacher_adapter: bool = False) -> dict:
    """A weights-only student checkpoint from a distiller ``state_dict``.

    Args:
        state (dict): The distiller's ``state_dict``.
        meta (dict, optional): Plain metadata to store under ``meta``.
        keep_teacher_adapter (bool): See
            :func:`split_distiller_state_dict`.

    Returns:
        dict: Ready for ``torch.save``.
    """
    ckpt = split_distiller_state_dict(state, keep_teacher_adapter)
    ckpt['meta'] = dict(meta or {})
    return ckpt
