"""had_mm's losses inside mmseg models: mmseg's loss arguments and its
decode heads.

mmseg's ``BaseDecodeHead.loss_by_feat`` calls every loss of ``loss_decode``
as ``loss(seg_logits, seg_label, weight=..., ignore_index=...)`` with the
``gt_sem_seg`` class labels, and keys its output by ``loss.loss_name``. A
stock config's ``loss_decode`` is ``CrossEntropyLoss(use_sigmoid=False,
loss_weight=1.0)``, so a ``loss_decode=dict(type=...)`` that replaces it
without ``_delete_=True`` hands those arguments on. The helpers here let
each loss say, in one line and when it is built, what it does with them.
"""
import inspect
import sys
from typing import Dict, Iterable, Optional, Tuple

import torch.nn as nn

#: Arguments of mmseg's segmentation losses (``CrossEntropyLoss``,
#: ``DiceLoss``, ...) that a merged stock ``loss_decode`` may pass on.
MMSEG_LOSS_ARGS = ('use_sigmoid', 'use_mask', 'reduction', 'class_weight',
                   'avg_non_ignore', 'loss_weight', 'loss_name',
                   'ignore_index', 'naive_dice', 'smooth', 'exponent',
                   'activate', 'eps')

#: Where a teacher-student loss goes instead of ``loss_decode``.
DISTILLERS = ("train_cfg.distill of had_mm.LifelongTrainLoop, "
              "projects/had_in_mmseg's IncrementalSegDistiller or "
              'distill_losses of had_mm.HeteroAKDDistiller')


def check_mmseg_loss_args(owner: str, extra: Dict[str, object],
                          accepted: Dict[str, Tuple[object, ...]],
                          own: Iterable[str], why: str) -> None:
    """Accept mmseg loss arguments that change nothing; refuse the others.

    Args:
        owner (str): The loss's class name.
        extra (dict): The keyword arguments its signature does not name.
        accepted (dict): ``name -> values`` that describe what the loss
            does anyway (e.g. ``avg_non_ignore=(True, )``): accepted.
        own (Iterable[str]): The loss's own arguments, for the message.
        why (str): What the loss computes, for the message.

    Raises:
        ValueError: An mmseg loss argument with another value, naming it
            and ``_delete_=True``.
        TypeError: Any other unknown argument, listing the loss's own.
    """
    for name, value in extra.items():
        if name in accepted and value in accepted[name]:
            continue
        if name in MMSEG_LOSS_ARGS:
            raise ValueError(
                f'{owner} does not take {name}={value!r} ({why}); a stock '
                f"config's loss_decode passes CrossEntropyLoss's arguments "
                f'on to a loss that replaces it: write loss_decode=dict('
                f"_delete_=True, type='had_mm.{owner}', ...).")
        raise TypeError(f'{owner} got an unexpected argument {name!r}; it '
                        f'takes {", ".join(own)}.')


def own_args(loss: nn.Module) -> Tuple[str, ...]:
    """The named arguments of a loss's ``__init__`` (for messages)."""
    params = inspect.signature(type(loss).__init__).parameters.values()
    return tuple(p.name for p in params
                 if p.name != 'self' and p.kind not in (p.VAR_KEYWORD,
                                                        p.VAR_POSITIONAL))


def building_decode_head(loss: nn.Module) -> Optional[nn.Module]:
    """The mmseg decode head whose ``__init__`` builds ``loss``, if its
    losses get ``gt_sem_seg`` class labels (it keeps
    ``BaseDecodeHead.loss_by_feat``); None otherwise.

    Walks up the call stack from the loss's ``__init__`` to the first
    ``__init__`` of another module: the module that builds the loss.
    """
    try:
        from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    except ImportError:  # pragma: no cover - mmseg is a requirement
        return None
    frame = sys._getframe(1)
    try:
        for _ in range(32):
            if frame is None:
                return None
            owner = frame.f_locals.get('self') \
                if frame.f_code.co_name == '__init__' else None
            if isinstance(owner, nn.Module) and owner is not loss:
                if isinstance(owner, BaseDecodeHead) and \
                        type(owner).loss_by_feat is \
                        BaseDecodeHead.loss_by_feat:
                    return owner
                return None
            frame = frame.f_back
        return None
    finally:
        del frame


def refuse_in_decode_head(loss: nn.Module, what: str, instead: str) -> None:
    """Refuse, in one line, a loss built in a stock mmseg decode head.

    Args:
        loss (nn.Module): The loss being built (call from its
            ``__init__``).
        what (str): What the loss needs that the head does not give.
        instead (str): Where to use it instead.
    """
    head = building_decode_head(loss)
    if head is not None:
        name = type(loss).__name__
        raise ValueError(
            f'{name} cannot be a loss_decode of {type(head).__name__}: '
            f"mmseg's decode heads call their losses with the ground-truth "
            f'class labels (gt_sem_seg), but {name} {what}. Keep '
            f'CrossEntropyLoss in loss_decode and use {name} in {instead}.')


def refuse_decode_head_call(owner: str, kwargs: dict, what: str,
                            instead: str) -> None:
    """The same refusal at call time, for a head not seen at build time:
    mmseg's decode heads pass ``ignore_index``, a teacher never does."""
    if 'ignore_index' in kwargs:
        raise ValueError(
            f'{owner} was called with ignore_index, as mmseg decode heads '
            f'call loss_decode with the ground-truth class labels, but '
            f'{owner} {what}. Use it in {instead}.')
