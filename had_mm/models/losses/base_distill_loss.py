"""What every per-task self-distillation term shares."""
from typing import Optional

import torch.nn as nn
from torch import Tensor

from .distill_utils import (check_task, check_task_outputs,
                            pixel_distill_loss_map, teacher_pseudo_label)
from .mmseg_compat import (DISTILLERS, MMSEG_LOSS_ARGS, check_mmseg_loss_args,
                           own_args, refuse_decode_head_call,
                           refuse_in_decode_head)

#: What a distillation term needs that an mmseg decode head does not give.
NEEDS_TEACHER = ("distils a frozen teacher's output: it is called as "
                 'loss(student_out, teacher_out)')


def check_distill_loss_args(loss: nn.Module, extra: dict) -> None:
    """The checks of a distillation term's ``__init__``: not in a stock
    decode head's ``loss_decode``, and no mmseg loss argument (none of them
    means anything to a teacher-student term)."""
    refuse_in_decode_head(loss, NEEDS_TEACHER, DISTILLERS)
    check_mmseg_loss_args(
        type(loss).__name__, extra, {}, own_args(loss),
        'a teacher-student term on task outputs, no class labels')


def check_distill_call(loss: nn.Module, kwargs: dict, student_out: Tensor,
                       teacher_out: Tensor) -> None:
    """The checks of a distillation term's call: no decode-head arguments
    and, on the first call only, the task-output contract (a wiring
    mistake shows there; later calls skip the device sync it costs).

    Args:
        loss (nn.Module): The term (with ``task`` and
            ``_outputs_checked``).
        kwargs (dict): The call's extra keyword arguments.
        student_out (Tensor): The student's output.
        teacher_out (Tensor): The teacher's output.
    """
    name = type(loss).__name__
    refuse_decode_head_call(name, kwargs, NEEDS_TEACHER, DISTILLERS)
    if not loss._outputs_checked:
        check_task_outputs(f'{name}(task={loss.task!r})', loss.task,
                           student_out, teacher_out)
        loss._outputs_checked = True


class BaseDistillLoss(nn.Module):
    """One old task's distillation term: the teacher's pseudo-label and the
    task's per-pixel distillation map come from the task table; a subclass
    only says how the map is reduced (:meth:`loss_from_map`).

    It follows mmseg's loss protocol (``loss_weight``, ``loss_name``) but
    is not a ``loss_decode``: a stock decode head gives its losses class
    labels, not a teacher's output, so it is refused there when built.

    Args:
        task (str): A registered task type, e.g. ``'semantic'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str, optional): Name of the loss item. Defaults to
            :attr:`default_loss_name`.
        **kwargs: mmseg loss arguments (``use_sigmoid``, ...) are refused
            by name, in one line.
    """

    #: ``loss_name`` when none is given.
    default_loss_name = 'loss_distill'

    #: taken through ``**kwargs``, accepted or refused by name
    mmseg_loss_args = MMSEG_LOSS_ARGS

    def __init__(self,
                 task: str,
                 loss_weight: float = 1.0,
                 loss_name: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__()
        check_distill_loss_args(self, kwargs)
        self.task = check_task(task)
        self.loss_weight = loss_weight
        self._loss_name = loss_name or self.default_loss_name
        self._outputs_checked = False  # see check_distill_call

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated).
        """
        return self._loss_name

    def loss_from_map(self,
                      loss_map: Tensor,
                      valid: Tensor,
                      student_out: Optional[Tensor] = None,
                      pseudo: Optional[Tensor] = None) -> Tensor:
        """Unweighted loss from a precomputed per-pixel loss map.

        Args:
            loss_map (Tensor): ``B x H x W`` per-pixel loss (0 where
                invalid).
            valid (Tensor): ``B x H x W`` bool mask of valid pixels.
            student_out (Tensor, optional): The student's task output, for
                reductions that group pixels by the prediction.
            pseudo (Tensor, optional): The teacher's pseudo-label.

        Returns:
            Tensor: Scalar loss (``loss_weight`` not applied).
        """
        raise NotImplementedError

    def forward(self, student_out: Tensor, teacher_out: Tensor,
                **kwargs) -> Tensor:
        """Forward function.

        Args:
            student_out (Tensor): The student's task output of the old task
                (activated, at the label's size: logits, depth in metres,
                unit normals).
            teacher_out (Tensor): The frozen teacher's task output of the
                same task (detached here).
            **kwargs: Ignored (``ignore_index``, which only mmseg decode
                heads pass, is refused).

        Returns:
            Tensor: Weighted scalar loss.

        Raises:
            ValueError: On the first call, for an output that is not a task
                output (negative depth, normals that are not unit vectors).
        """
        check_distill_call(self, kwargs, student_out, teacher_out)
        pseudo = teacher_pseudo_label(self.task, teacher_out)
        loss_map, valid = pixel_distill_loss_map(self.task, student_out,
                                                 pseudo)
        return self.loss_weight * self.loss_from_map(loss_map, valid,
                                                     student_out, pseudo)
