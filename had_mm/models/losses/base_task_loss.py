"""What had_mm's dense-task losses (depth, normal, saliency) share."""
from typing import Dict, Optional, Tuple

import torch.nn as nn
from torch import Tensor

from .distill_utils import upcast_half
from .mmseg_compat import (MMSEG_LOSS_ARGS, check_mmseg_loss_args, own_args,
                           refuse_decode_head_call, refuse_in_decode_head)


class BaseTaskLoss(nn.Module):
    """mmseg's loss protocol (``loss_weight``, ``loss_name``, the mmseg loss
    arguments a stock ``loss_decode`` passes on) for one task's loss.

    A subclass keeps its own ``__init__`` signature (its arguments are
    named in the messages) and says in class attributes which mmseg
    arguments describe what it does anyway and, for a loss that does not
    take class labels, what it needs instead; it implements ``forward``.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; it must start with
            ``loss_`` to be back-propagated. Defaults to 'loss_task'.
        **kwargs: mmseg loss arguments in :attr:`accepted_mmseg_args` are
            accepted; others are refused by name, in one line.
    """

    #: taken through ``**kwargs``, accepted or refused by name
    mmseg_loss_args = MMSEG_LOSS_ARGS

    #: ``name -> values`` of the mmseg loss arguments that change nothing.
    accepted_mmseg_args: Dict[str, Tuple[object, ...]] = dict(
        use_sigmoid=(False, ), avg_non_ignore=(True, ), reduction=('mean', ))

    #: What the loss computes, for the message refusing an mmseg argument.
    computes = 'it averages over the valid pixels, without a sigmoid'

    #: What the loss needs that a stock mmseg decode head (class labels)
    #: does not give, and where it goes instead; None: no such refusal.
    needs: Optional[str] = None
    instead: str = ''

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_task',
                 **kwargs) -> None:
        super().__init__()
        self.check_decode_head()
        check_mmseg_loss_args(
            type(self).__name__, kwargs, self.accepted_mmseg_args,
            own_args(self), self.computes)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def check_decode_head(self) -> None:
        """Refuse, when built, a stock mmseg decode head as the builder
        (for a loss with :attr:`needs`)."""
        if self.needs is not None:
            refuse_in_decode_head(self, self.needs, self.instead)

    def float_inputs(self, pred: Tensor, target: Tensor,
                     kwargs: dict) -> Tuple[Tensor, Tensor]:
        """``pred`` (half upcast) and the detached ``target`` in its dtype.

        Integer targets are the class labels of an mmseg decode head that
        the build-time check did not see: refused by name.

        Args:
            pred (Tensor): The prediction.
            target (Tensor): The ground truth.
            kwargs (dict): The call's extra keyword arguments.

        Returns:
            tuple[Tensor, Tensor]: ``pred`` and ``target``.
        """
        if not target.is_floating_point():
            refuse_decode_head_call(
                type(self).__name__, kwargs, self.needs, self.instead)
        pred = upcast_half(pred)
        return pred, target.detach().to(pred.dtype)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (``loss_`` prefix = back-propagated).
        """
        return self._loss_name
