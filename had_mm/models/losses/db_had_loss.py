"""Distribution-balanced heterogeneity-aware distillation (DB-HAD)."""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks import get_task
from had_mm.tasks.unit_vectors import inverse_norm
from .base_distill_loss import BaseDistillLoss
from .distill_utils import upcast_half


@MODELS.register_module()
class DBHADLoss(BaseDistillLoss):
    """DB-HAD loss (docs/en/methods/had.md, section 5).

    Pixels are grouped, a loss is computed per group and the groups are
    balanced, so that the dominant classes / value ranges of the
    pseudo-labels do not drown the rest. ``l`` is the per-pixel
    distillation loss of
    :func:`~had_mm.models.losses.distill_utils.pixel_distill_loss_map`.

    The branch follows the task's ``distill_kind``
    (:class:`~had_mm.tasks.TaskSpec`): semantic is 'classification',
    saliency 'binary', depth 'regression', normal 'normal'.

    - semantic / saliency (2 classes): per class ``c`` of the ``C`` classes
      of the teacher's pseudo-label,
      ``L_c = exp(mean_{p: y^(p) = c, l(p) > 0} log l(p))`` (geometric
      mean), ``L_c = 0`` for a class absent from the batch; ``w =
      softmax(-L)`` over the ``C`` entries, detached;
      ``L_DB = (1 / C) * sum_c w_c L_c``. As in the reference the average
      runs over all ``C`` entries, absent classes included.
      ``group_by``, ``tau`` and the bins do not apply.
    - depth / normal: pixels are binned on the student prediction
      (``group_by='student'``; normal: the channel-mean of the unit
      student normal) or on the teacher pseudo-label
      (``group_by='teacher'``), with the open intervals between the bin
      edges (default one edge ``tau``: ``v < tau`` and ``v > tau``; a pixel
      exactly on an edge belongs to no group, as in the reference), or,
      with ``bin_edges='quantile'``, into ``num_bins`` groups of equal
      pixel count cut at the quantiles of ``v`` over the batch's valid
      pixels (``edge_{k-1} < v <= edge_k``), so that the groups split
      whatever the value range (a fixed ``tau = 0.5`` leaves every indoor
      depth, in metres, in one group);
      ``L_DB = sum_groups mean_{p in g} l(p)``, an empty group
      contributing 0. Deviation: for normals the reference makes an empty
      group contribute 1; here it contributes 0, like depth, so that the
      loss does not jump by a constant when a group empties.

    Everything is computed for the whole batch with ``index_add`` (no
    Python loop over classes and no host synchronisation).

    Args:
        task (str): A registered task type, e.g. ``'semantic'``.
        num_classes (int, optional): Number of classes ``C`` of a semantic
            task; checked against the student's channels, which are used
            when None. A binary task (saliency) always has 2 (None or 2
            accepted).
            Defaults to None.
        tau (float): Split threshold of the two depth / normal groups.
            Defaults to 0.5.
        group_by (str): 'student' or 'teacher': which prediction bins the
            depth / normal pixels. Defaults to 'student'.
        num_bins (int): Number of depth / normal groups. With 2 and no
            ``bin_edges`` the single edge is ``tau``; more bins need
            ``bin_edges``. Defaults to 2.
        bin_edges (Sequence[float] | str, optional): ``num_bins - 1``
            strictly increasing edges, or ``'quantile'`` for edges at the
            batch's ``k / num_bins`` quantiles; overrides ``tau``.
            Defaults to None.
        eps (float): Floor of ``l`` inside the log (numerical safety only;
            pixels with ``l = 0`` are excluded, see docs/en/methods/had.md,
            section 5). Defaults to 1e-12.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str, optional): Name of the loss item. Defaults to
            'loss_db_had'.
        **kwargs: mmseg loss arguments are refused by name.
    """

    default_loss_name = 'loss_db_had'

    def __init__(self,
                 task: str,
                 num_classes: Optional[int] = None,
                 tau: float = 0.5,
                 group_by: str = 'student',
                 num_bins: int = 2,
                 bin_edges: Optional[Union[Sequence[float], str]] = None,
                 eps: float = 1e-12,
                 loss_weight: float = 1.0,
                 loss_name: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(task, loss_weight, loss_name, **kwargs)
        # how the task is balanced comes from its spec, not its name
        self.kind = get_task(task).distill_kind
        if self.kind == 'binary':
            if num_classes not in (None, 2):
                raise ValueError(f'DBHADLoss: {task} has 2 classes, got '
                                 f'num_classes={num_classes}.')
            num_classes = 2
        self.num_classes = num_classes
        if group_by not in ('student', 'teacher'):
            raise ValueError(f'DBHADLoss: unknown group_by {group_by!r}; '
                             "valid choices are 'student', 'teacher'.")
        self.quantile_edges = isinstance(bin_edges, str)
        if self.quantile_edges:
            if bin_edges != 'quantile':
                raise ValueError(
                    f'DBHADLoss: unknown bin_edges {bin_edges!r}; give '
                    "increasing numbers or 'quantile'.")
            if not isinstance(num_bins, int) or num_bins < 2:
                raise ValueError("DBHADLoss: bin_edges='quantile' needs "
                                 f'num_bins >= 2, got {num_bins!r}.')
        else:
            bin_edges = self._fixed_edges(tau, num_bins, bin_edges)
        self.tau = tau
        self.group_by = group_by
        self.num_bins = num_bins
        self.bin_edges = bin_edges
        self.eps = eps

    @staticmethod
    def _fixed_edges(tau: float, num_bins: int,
                     bin_edges: Optional[Sequence[float]]) -> tuple:
        """The checked edges of fixed-edge grouping (``tau`` by default)."""
        if bin_edges is None:
            if num_bins != 2:
                raise ValueError(
                    f'DBHADLoss: num_bins={num_bins} needs bin_edges '
                    f'({num_bins - 1} increasing values); only 2 bins '
                    'default to the single edge tau.')
            bin_edges = (tau, )
        bin_edges = tuple(float(e) for e in bin_edges)
        if len(bin_edges) != num_bins - 1:
            raise ValueError(
                f'DBHADLoss: num_bins={num_bins} needs {num_bins - 1} '
                f'bin_edges, got {len(bin_edges)}: {bin_edges}.')
        if any(b <= a for a, b in zip(bin_edges[:-1], bin_edges[1:])):
            raise ValueError('DBHADLoss: bin_edges must be strictly '
                             f'increasing, got {bin_edges}.')
        return bin_edges

    def _class_balanced(self, loss_map: Tensor, valid: Tensor,
                        student_out: Tensor, pseudo: Tensor) -> Tensor:
        """Semantic / saliency branch: softmax(-L)-weighted class losses."""
        if self.kind == 'binary':
            num_classes = 2
            labels = pseudo.reshape(loss_map.shape) >= 0.5
        else:
            num_classes = student_out.shape[1]
            if self.num_classes not in (None, num_classes):
                raise ValueError(
                    f'DBHADLoss: num_classes={self.num_classes} but the '
                    f'student outputs {num_classes} channels.')
            labels = pseudo.reshape(loss_map.shape)
        pos = valid & (loss_map > 0)
        idx = torch.where(pos, labels.long(),
                          torch.zeros_like(labels, dtype=torch.long))
        log_l = torch.where(pos,
                            loss_map.clamp(min=self.eps).log(),
                            torch.zeros_like(loss_map))
        zeros = loss_map.new_zeros(num_classes)
        sums = zeros.index_add(0, idx.flatten(), log_l.flatten())
        counts = zeros.index_add(0, idx.flatten(),
                                 pos.flatten().to(zeros.dtype))
        mean_log = sums / counts.clamp(min=1)
        class_loss = torch.where(counts > 0, mean_log.exp(), zeros)
        # Weights are a balancing schedule, not a learning signal.
        weight = F.softmax(-class_loss.detach(), dim=0)
        return (weight * class_loss).sum() / num_classes

    def _quantile_edges(self, values: Tensor) -> Tensor:
        """Edges at the ``k / num_bins`` quantiles of the valid values."""
        probs = torch.arange(
            1, self.num_bins, dtype=values.dtype,
            device=values.device) / self.num_bins
        if values.numel() == 0:  # no valid pixel: every group is empty
            return probs
        return torch.quantile(values, probs)

    def _group_balanced(self, loss_map: Tensor, valid: Tensor,
                        student_out: Tensor, pseudo: Tensor) -> Tensor:
        """Depth / normal branch: sum of per-group mean losses."""
        source = student_out if self.group_by == 'student' else pseudo
        source = upcast_half(source.detach())
        if self.kind == 'normal':
            # the channel mean of unit_normalize(source), from channel
            # sums: no normalised 3-channel map
            value = source.sum(dim=1) * inverse_norm(source) / source.shape[1]
        else:
            value = source.reshape(loss_map.shape)
        ok = valid & torch.isfinite(value)
        if self.quantile_edges:
            edges = self._quantile_edges(value[ok])
        else:
            edges = value.new_tensor(self.bin_edges)
            # Open intervals, as the reference's strict inequalities.
            ok &= ~(value.unsqueeze(-1) == edges).any(dim=-1)
        bins = torch.bucketize(value, edges)
        idx = torch.where(ok, bins, torch.zeros_like(bins)).flatten()
        zeros = loss_map.new_zeros(self.num_bins)
        sums = zeros.index_add(
            0, idx,
            torch.where(ok, loss_map, torch.zeros_like(loss_map)).flatten())
        counts = zeros.index_add(0, idx, ok.flatten().to(zeros.dtype))
        # counts.clamp: an empty group has sum 0 and contributes 0.
        return (sums / counts.clamp(min=1)).sum()

    def loss_from_map(self, loss_map: Tensor, valid: Tensor,
                      student_out: Tensor, pseudo: Tensor) -> Tensor:
        """Unweighted DB-HAD loss from a precomputed loss map.

        Args:
            loss_map (Tensor): ``B x H x W`` per-pixel loss (0 where
                invalid).
            valid (Tensor): ``B x H x W`` bool mask of valid pixels.
            student_out (Tensor): The student's task output.
            pseudo (Tensor): Teacher pseudo-label of
                :func:`~had_mm.models.losses.distill_utils.
                teacher_pseudo_label`.

        Returns:
            Tensor: Scalar loss (``loss_weight`` not applied).
        """
        if self.kind in ('classification', 'binary'):
            return self._class_balanced(loss_map, valid, student_out, pseudo)
        return self._group_balanced(loss_map, valid, student_out, pseudo)
