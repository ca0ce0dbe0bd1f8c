"""Heterogeneity-aware distillation loss.

See docs/en/methods/had.md, sections 5-7.
"""
from typing import Optional, Sequence, Union

from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks import get_task
from .base_distill_loss import BaseDistillLoss, check_distill_call
from .db_had_loss import DBHADLoss
from .had_reference import (reference_depth, reference_normal,
                            reference_saliency, reference_semantic)
from .pixel_distill_loss import PixelDistillLoss
from .sg_had_loss import SGHADLoss

PRESETS = ('default', 'reference')


@MODELS.register_module()
class HADLoss(BaseDistillLoss):
    """HAD distillation loss of one old task: ``(L_DB + L_SG) / 2``.

    With only one of DB / SG on, the loss is that one alone. With both
    off it is the plain masked mean of the per-pixel distillation loss,
    i.e. exactly :class:`PixelDistillLoss` (the LwF-style baseline: "a
    setting that turns DB off replaces L_DB by the plain masked mean").

    The pseudo-labels and the loss map are computed once per call and
    shared by the DB and SG parts, built here as :class:`DBHADLoss` and
    :class:`SGHADLoss`. The lifelong weight ``lambda`` of the total loss is
    ``loss_weight``.

    ``preset='reference'`` reduces the terms as the authors' released code
    does (:mod:`~had_mm.models.losses.had_reference`): semantic SG over all
    pixels, normal terms on the channel mean of the product with the
    all-pixel SG sum, depth group means counting invalid pixels, and for
    saliency a plain balanced BCE against ``teacher logit >= 0.5`` instead
    of DB / SG. It takes the defaults of every grouping and mask option.

    It follows mmseg's loss protocol (``loss_weight``, ``loss_name``) but
    distils a teacher's output, so it is no ``loss_decode``: a stock mmseg
    decode head, which gives its losses the ground-truth class labels,
    refuses it when built (one line naming the distillers to use instead:
    ``LifelongTrainLoop``'s ``distill``, ``projects/had_in_mmseg`` or
    ``HeteroAKDDistiller``'s ``distill_losses``).

    Args:
        task (str): A registered task type, e.g. ``'semantic'``.
        use_db (bool): Use DB-HAD. Defaults to True.
        use_sg (bool): Use SG-HAD. Defaults to True.
        tau (float): DB-HAD split threshold (depth / normal). Defaults to
            0.5.
        threshold (float): SG-HAD salience threshold ``s``. Defaults to
            0.9.
        num_classes (int, optional): DB-HAD number of classes (semantic).
            Defaults to None (the student's channels).
        group_by (str): DB-HAD grouping, 'student' or 'teacher'. Defaults
            to 'student'.
        num_bins (int): DB-HAD number of depth / normal groups. Defaults
            to 2.
        bin_edges (Sequence[float] | str, optional): DB-HAD bin edges, or
            ``'quantile'`` (equal-count groups at the batch's quantiles).
            Defaults to None.
        eps (float): DB-HAD floor inside the log. Defaults to 1e-12.
        mode (str): SG-HAD mask mode, 'greater', 'less' or 'band'.
            Defaults to 'greater'.
        band (Sequence[float], optional): SG-HAD ``(low, high)`` of the
            'band' mode. Defaults to None.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        preset (str): 'default' (the corrected method) or 'reference'
            (the authors' released reductions). Defaults to 'default'.
        loss_name (str): Name of the loss item. Defaults to 'loss_had'.
        **kwargs: mmseg loss arguments (``use_sigmoid``,
            ``avg_non_ignore``, ...) are refused by name, in one line.
    """

    default_loss_name = 'loss_had'

    def __init__(self,
                 task: str,
                 use_db: bool = True,
                 use_sg: bool = True,
                 tau: float = 0.5,
                 threshold: float = 0.9,
                 num_classes: Optional[int] = None,
                 group_by: str = 'student',
                 num_bins: int = 2,
                 bin_edges: Optional[Union[Sequence[float], str]] = None,
                 eps: float = 1e-12,
                 mode: str = 'greater',
                 band: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 preset: str = 'default',
                 loss_name: str = 'loss_had',
                 **kwargs) -> None:
        super().__init__(task, loss_weight, loss_name, **kwargs)
        if preset not in PRESETS:
            raise ValueError(f'HADLoss: unknown preset {preset!r}; valid '
                             f'choices are {", ".join(map(repr, PRESETS))}.')
        if preset == 'reference':
            changed = [
                name
                for name, value, default in (('group_by', group_by, 'student'),
                                             ('num_bins', num_bins, 2),
                                             ('bin_edges', bin_edges,
                                              None), ('mode', mode, 'greater'),
                                             ('band', band, None))
                if value != default
            ]
            if changed or not (use_db or use_sg):
                raise ValueError(
                    "HADLoss: preset='reference' is the released code's "
                    'loss and takes only task, use_db/use_sg (one at '
                    'least), tau, threshold, num_classes, eps and '
                    f'loss_weight; drop {changed or ["use_db=use_sg=False"]}'
                    " or use preset='default'.")
        self.preset = preset
        self.use_db = use_db
        self.use_sg = use_sg
        # Parts are unweighted; loss_weight is applied once, in forward. The
        # reference preset computes both terms and keeps those asked for.
        self.db_loss = DBHADLoss(
            task,
            num_classes=num_classes,
            tau=tau,
            group_by=group_by,
            num_bins=num_bins,
            bin_edges=bin_edges,
            eps=eps) if use_db or preset == 'reference' else None
        self.sg_loss = SGHADLoss(
            task, threshold=threshold, mode=mode,
            band=band) if use_sg or preset == 'reference' else None
        self.plain_loss = (
            PixelDistillLoss(task) if not (use_db or use_sg) else None)
        self.tau = tau

    def forward(self, student_out: Tensor, teacher_out: Tensor,
                **kwargs) -> Tensor:
        """Forward function: :meth:`BaseDistillLoss.forward` (arguments,
        return value and checks as there), with the 'reference' preset's
        own reduction of the outputs."""
        if self.preset != 'reference':
            return super().forward(student_out, teacher_out, **kwargs)
        check_distill_call(self, kwargs, student_out, teacher_out)
        return self.loss_weight * self._reference(student_out, teacher_out)

    def loss_from_map(self, loss_map: Tensor, valid: Tensor,
                      student_out: Tensor, pseudo: Tensor) -> Tensor:
        """Unweighted loss of the 'default' preset: the DB and SG parts,
        computed from one loss map, averaged (the plain masked mean with
        both off)."""
        if self.plain_loss is not None:
            return self.plain_loss.loss_from_map(loss_map, valid)
        parts = []
        if self.db_loss is not None:
            parts.append(
                self.db_loss.loss_from_map(loss_map, valid, student_out,
                                           pseudo))
        if self.sg_loss is not None:
            parts.append(self.sg_loss.loss_from_map(loss_map, valid))
        # len(parts) is 1 or 2: dividing before loss_weight is applied
        # gives the same bits as dividing after.
        return sum(parts) / len(parts)

    def _reference(self, student_out: Tensor, teacher_out: Tensor) -> Tensor:
        """Unweighted loss of the 'reference' preset."""
        # the reference reduction of the task's distillation kind
        kind = get_task(self.task).distill_kind
        if kind == 'binary':
            return reference_saliency(student_out, teacher_out)
        mask_fn = self.sg_loss.salience_mask
        if kind == 'classification':
            db, sg = reference_semantic(student_out, teacher_out, mask_fn,
                                        self.db_loss.loss_from_map)
        elif kind == 'regression':
            db, sg = reference_depth(student_out, teacher_out, mask_fn,
                                     self.tau)
        else:
            db, sg = reference_normal(student_out, teacher_out, mask_fn,
                                      self.tau)
        parts = [p for p, on in ((db, self.use_db), (sg, self.use_sg)) if on]
        return sum(parts) / len(parts)
