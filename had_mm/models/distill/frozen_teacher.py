"""One way for a model to hold the frozen teacher it distils from."""
from typing import Any, Optional

import torch
import torch.nn as nn


class FrozenTeacherMixin:
    """Give an ``nn.Module`` a frozen teacher outside its registration.

    A distilling model receives its teacher at a phase boundary with
    :meth:`attach_teacher` (and drops it with :meth:`detach_teacher`), or
    once at build time for a teacher built from its own config. The mixin
    is the one place that

    - freezes the teacher: eval mode (kept in eval by this model's
      ``train()``), ``requires_grad=False``;
    - keeps it out of this model's children: it is in no ``state_dict()``,
      ``parameters()``, ``init_weights()``, optimizer or DDP bucket (it is
      held in the instance ``__dict__``, not in ``_modules``);
    - moves it along: ``.to()`` / ``.cuda()`` / ``.half()`` / ``.double()``
      of this model apply to the teacher too, and mmengine's
      ``BaseModel._set_device`` reaches the teacher's data preprocessor;
    - refuses a model being its own teacher (or sharing parameters with
      it).

    Each model's own per-phase arguments (losses, weight, old classes, ...)
    go through the same :meth:`attach_teacher` call as keyword arguments
    and are checked and stored by :meth:`_on_attach_teacher`, which a model
    overrides; :meth:`_on_detach_teacher` drops them again.

    Put the mixin before the ``nn.Module`` base class
    (``class Model(FrozenTeacherMixin, BaseModel)``) so that its ``train``,
    ``_apply`` and ``_set_device`` wrap the module's.
    """

    #: Key of the teacher in the instance ``__dict__``.
    _TEACHER_KEY = '_frozen_teacher'
    #: Key of the flag telling whether the teacher follows ``_apply``.
    _FOLLOW_KEY = '_frozen_teacher_follows'

    # ------------------------------------------------------------ protocol
    @property
    def teacher(self) -> Optional[nn.Module]:
        """nn.Module | None: The attached teacher."""
        return self.__dict__.get(self._TEACHER_KEY)

    def attach_teacher(self,
                       teacher: nn.Module,
                       *,
                       freeze: bool = True,
                       **phase_kwargs: Any) -> None:
        """Distil from ``teacher`` from now on (replacing any other).

        Args:
            teacher (nn.Module): The teacher (e.g. a deep copy of this model
                at the end of the last phase).
            freeze (bool): Freeze the teacher (``requires_grad=False``) and
                move it with this model (``.to()``, ``.half()``...). False
                for a teacher that another module owns as a child and trains
                in its own stage (kdp's ``ContinualDistiller``): its flags
                stay as they are, its owner moves it, and here it is only
                kept in eval mode. Defaults to True.
            **phase_kwargs: The model's own arguments of the phase (see its
                ``_on_attach_teacher``).

        Raises:
            TypeError: If ``teacher`` is not an ``nn.Module``.
            ValueError: If ``teacher`` is this model, contains it, is one of
                its modules or shares parameters with it.
        """
        self._check_not_self(teacher)
        # the model's own checks come first: a bad argument changes nothing
        self._on_attach_teacher(teacher, **phase_kwargs)
        if freeze:
            teacher.requires_grad_(False)
        teacher.eval()
        self.__dict__[self._TEACHER_KEY] = teacher
        self.__dict__[self._FOLLOW_KEY] = bool(freeze)

    def detach_teacher(self) -> Optional[nn.Module]:
        """Stop distilling (first phase, fine-tuning, before a deep copy).

        Returns:
            nn.Module | None: The teacher that was attached.
        """
        teacher = self.__dict__.pop(self._TEACHER_KEY, None)
        self.__dict__.pop(self._FOLLOW_KEY, None)
        self._on_detach_teacher()
        return teacher

    def _on_attach_teacher(self, teacher: nn.Module, **phase_kwargs) -> None:
        """Check and store the model's per-phase arguments.

        Called by :meth:`attach_teacher` before the teacher is frozen and
        held; raise here to refuse the teacher or an argument. The default
        takes no arguments.

        Args:
            teacher (nn.Module): The teacher to be attached.
            **phase_kwargs: The model's own arguments.
        """
        if phase_kwargs:
            raise TypeError(f'{type(self).__name__}.attach_teacher() got '
                            f'unexpected arguments {sorted(phase_kwargs)}')

    def _on_detach_teacher(self) -> None:
        """Drop what :meth:`_on_attach_teacher` stored (default: nothing)."""

    def _check_not_self(self, teacher: nn.Module) -> None:
        if not isinstance(teacher, nn.Module):
            raise TypeError(f'{type(self).__name__}: the teacher must be an '
                            f'nn.Module, got {type(teacher).__name__}')
        if teacher is self:
            raise ValueError(f'{type(self).__name__}: a model cannot be its '
                             f'own teacher (attach a frozen copy, e.g. '
                             f'copy.deepcopy(model))')
        inside = any(m is self for m in teacher.modules())
        if inside or any(m is teacher for m in self.modules()):
            raise ValueError(f'{type(self).__name__}: the teacher contains '
                             f'this model or is one of its modules')
        own = {id(p) for p in self.parameters()}
        if any(id(p) in own for p in teacher.parameters()):
            raise ValueError(f'{type(self).__name__}: the teacher shares '
                             f'parameters with this model (attach a frozen '
                             f'copy, e.g. copy.deepcopy(model))')

    # ------------------------------------------------- nn.Module plumbing
    def train(self, mode: bool = True):
        """Set this model's mode; the teacher stays in eval mode.

        Args:
            mode (bool): Training mode. Defaults to True.

        Returns:
            nn.Module: self.
        """
        super().train(mode)
        teacher = self.teacher
        if teacher is not None:
            teacher.eval()
        return self

    def _apply(self, fn, *args, **kwargs):
        # .to() / .cuda() / .half() end here: the teacher follows
        super()._apply(fn, *args, **kwargs)
        teacher = self.teacher
        if teacher is not None and self.__dict__.get(self._FOLLOW_KEY, True):
            teacher._apply(fn, *args, **kwargs)
        return self

    def _set_device(self, device: torch.device) -> None:
        # mmengine's BaseModel.to() records the device in data
        # preprocessors through this method; the teacher's follows too
        parent = getattr(super(), '_set_device', None)
        if parent is not None:
            parent(device)
        teacher = self.teacher
        if teacher is not None and self.__dict__.get(self._FOLLOW_KEY, True) \
                and hasattr(teacher, '_set_device'):
            teacher._set_device(device)
