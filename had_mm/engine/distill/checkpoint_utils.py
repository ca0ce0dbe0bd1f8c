"""Student-only checkpoints out of distiller checkpoints.

Reading checkpoints and checking them against a model live in
:mod:`had_mm.checkpoint`.
"""
from collections import OrderedDict
from typing import Dict, Optional

import torch

__all__ = ['split_distiller_state_dict', 'student_checkpoint']

#: State-dict prefixes of a :class:`HeteroAKDDistiller`.
STUDENT_PREFIX = 'student.'
STUDENT_ADAPTER_PREFIX = 'student_adapter.'
TEACHER_ADAPTER_PREFIX = 'teacher_adapter.'


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
