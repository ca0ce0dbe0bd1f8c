from typing import Dict

from torch import Tensor

from had_mm.registry import MODELS
from .base_distill import BaseDistill
from .distill_inputs import DistillInputs


@MODELS.register_module()
class LogitKD(BaseDistill):
    """Plain logit distillation on the CLS head (the KD baseline).

    ``L = (1 - a) CE(last(CLS), y) + a T^2 KL(softmax(z_T / T) ||
    softmax(last(CLS) / T))`` over the current task's classes; inference
    uses ``last(CLS)``. No extra token or prompt. The arguments are
    :class:`BaseDistill`'s: ``alpha`` is ``a``, ``temperature`` is ``T``.
    """

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce`` (weighted by ``1 - a``) and ``loss_kd`` (weighted by
        ``a``, times ``T^2``), see the class docstring."""
        return self.ce_and_soft_kd(inputs, inputs.cls_logits)
