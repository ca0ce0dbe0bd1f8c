from typing import Dict

from torch import Tensor

from had_mm.registry import MODELS
from ..losses import DKDLoss
from .base_distill import BaseDistill
from .distill_inputs import DistillInputs


@MODELS.register_module()
class DKDDistill(BaseDistill):
    """Decoupled knowledge distillation (DKD) on the CLS head.

    ``L = (1 - w) CE(last(CLS), y) + w T^2 (alpha TCKD + beta NCKD)``
    between ``last(CLS)`` and the teacher's CLS logits, over the current
    task's classes (the target class ``y`` is inside them; see
    :class:`DKDLoss`). Inference uses ``last(CLS)``; no extra token or
    prompt. The defaults are the KDP authors' DKD baseline: ``w = 0.5``,
    ``alpha = 1``, ``beta = 4``, ``T = 4``. DKD's epoch warm-up of the KD
    weight is not used (the continual loop restarts at each task).

    Here ``alpha`` is the TCKD weight (not a CE / KD mix; that is
    ``kd_weight``).

    Args:
        kd_weight (float): Weight ``w`` of the DKD term, in ``[0, 1]``; CE
            has ``1 - w``. Defaults to 0.5.
        alpha (float): TCKD weight. Defaults to 1.0.
        beta (float): NCKD weight. Defaults to 4.0.
        temperature (float): Temperature ``T``. Defaults to 4.0.
        **kwargs: :class:`BaseDistill`'s ``embed_dims``, ``num_classes``,
            ``num_layers``, ``init_cfg``.
    """

    alpha_is_mix = False

    def __init__(self,
                 kd_weight: float = 0.5,
                 alpha: float = 1.0,
                 beta: float = 4.0,
                 temperature: float = 4.0,
                 **kwargs) -> None:
        super().__init__(alpha=alpha, temperature=temperature, **kwargs)
        if not 0 <= kd_weight <= 1:
            raise ValueError(f'DKDDistill: kd_weight={kd_weight} must be in '
                             f'[0, 1]')
        self.kd_weight = float(kd_weight)
        self.beta = float(beta)
        self.dkd = DKDLoss(alpha=alpha, beta=beta, temperature=temperature)

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce`` (times ``1 - w``), ``loss_tckd`` (times ``w alpha``)
        and ``loss_nckd`` (times ``w beta``), the last two with ``T^2``."""
        tckd, nckd = self.dkd.decoupled(
            inputs.task_logits(inputs.cls_logits),
            inputs.task_logits(inputs.teacher_logits),
            inputs.gt_label - inputs.task_classes[0])
        return dict(
            loss_ce=(1 - self.kd_weight) * inputs.ce(inputs.cls_logits),
            loss_tckd=self.kd_weight * self.dkd.alpha * tckd,
            loss_nckd=self.kd_weight * self.dkd.beta * nckd)
