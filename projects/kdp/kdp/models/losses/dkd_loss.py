from typing import Tuple

import torch
import torch.nn as nn
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import check_non_negative


def _kl_rows(log_p: Tensor, log_q: Tensor) -> Tensor:
    """``sum_c p_c (log p_c - log q_c)`` per row, with ``0 log 0 = 0``."""
    p = log_p.exp()
    terms = torch.where(p > 0, p * (log_p - log_q), torch.zeros_like(p))
    return terms.sum(dim=1)


@MODELS.register_module()
class DKDLoss(nn.Module):
    """Decoupled knowledge distillation (Zhao et al., CVPR 2022).

    With ``p = softmax(z / T)`` for the teacher (``t``) and the student
    (``s``) and the target class ``y``:

    - TCKD, the target-class term: ``KL(b_t || b_s)`` of the binary
      distributions ``b = (p_y, 1 - p_y)``;
    - NCKD, the non-target term: ``KL(p^_t || p^_s)`` of the distributions
      over the non-target classes, ``p^ = softmax`` of the logits without
      class ``y``.

    ``DKD = loss_weight * T^2 * (alpha TCKD + beta NCKD)``, batch mean.
    The teacher's logits are detached.

    Args:
        alpha (float): Weight of TCKD. Defaults to 1.0.
        beta (float): Weight of NCKD (the paper's 8 on CIFAR-100; the KDP
            authors use 4). Defaults to 8.0.
        temperature (float): Temperature ``T``. Defaults to 4.0.
        loss_weight (float): Overall weight. Defaults to 1.0.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 beta: float = 8.0,
                 temperature: float = 4.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_non_negative(alpha, 'alpha', 'DKDLoss')
        self.beta = check_non_negative(beta, 'beta', 'DKDLoss')
        self.loss_weight = check_non_negative(loss_weight, 'loss_weight',
                                              'DKDLoss')
        self.temperature = check_non_negative(
            temperature, 'temperature', 'DKDLoss', strict=True)

    def decoupled(self, student_logits: Tensor, teacher_logits: Tensor,
                  target: Tensor) -> Tuple[Tensor, Tensor]:
        """The two terms, each times ``T^2`` and averaged over the batch
        (not weighted by ``alpha``, ``beta`` or ``loss_weight``).

        Args:
            student_logits (Tensor): ``B x C`` student logits.
            teacher_logits (Tensor): ``B x C`` teacher logits.
            target (Tensor): ``B`` target classes in ``[0, C)``.

        Returns:
            tuple[Tensor, Tensor]: TCKD and NCKD (scalars; both 0 when
            ``C = 1``).
        """
        if student_logits.shape != teacher_logits.shape or \
                student_logits.dim() != 2:
            raise ValueError(
                f'DKDLoss: student logits {tuple(student_logits.shape)} and '
                f'teacher logits {tuple(teacher_logits.shape)} must both be '
                f'B x C')
        batch, classes = student_logits.shape
        zero = student_logits.new_zeros(())
        if classes < 2:  # no non-target class: nothing to distil
            return zero, zero
        temp = self.temperature
        s = student_logits / temp
        t = teacher_logits.detach().to(s.dtype) / temp
        is_target = torch.zeros_like(s, dtype=torch.bool)
        is_target.scatter_(1, target.view(-1, 1).long(), True)
        # the logits without the target class, B x (C - 1)
        s_other = s[~is_target].view(batch, classes - 1)
        t_other = t[~is_target].view(batch, classes - 1)

        def binary(z: Tensor, z_other: Tensor) -> Tensor:
            # log (p_y, 1 - p_y) from log-sum-exps (stable)
            log_all = torch.logsumexp(z, dim=1)
            log_target = z[is_target] - log_all
            log_rest = torch.logsumexp(z_other, dim=1) - log_all
            return torch.stack([log_target, log_rest], dim=1)

        tckd = _kl_rows(binary(t, t_other), binary(s, s_other)).mean()
        nckd = _kl_rows(
            torch.log_softmax(t_other, dim=1),
            torch.log_softmax(s_other, dim=1)).mean()
        return tckd * temp**2, nckd * temp**2

    def forward(self, student_logits: Tensor, teacher_logits: Tensor,
                target: Tensor) -> Tensor:
        """``loss_weight * (alpha TCKD + beta NCKD)``.

        Args:
            student_logits (Tensor): ``B x C`` student logits.
            teacher_logits (Tensor): ``B x C`` teacher logits.
            target (Tensor): ``B`` target classes in ``[0, C)``.

        Returns:
            Tensor: The scalar loss.
        """
        tckd, nckd = self.decoupled(student_logits, teacher_logits, target)
        return self.loss_weight * (self.alpha * tckd + self.beta * nckd)
