from typing import Dict, Optional, Tuple

from torch import Tensor

from had_mm.registry import MODELS
from .base_distill import BaseDistill, soft_kl


@MODELS.register_module()
class LogitKD(BaseDistill):
    """Plain logit distillation on the CLS head (the KD baseline).

    ``L = (1 - a) CE(last(CLS), y) + a T^2 KL(softmax(z_T / T) ||
    softmax(last(CLS) / T))`` over the current task's classes; inference
    uses ``last(CLS)``. No extra token or prompt.

    Args:
        embed_dims (int): The student ViT's embedding dimension.
        num_classes (int): Number of classes.
        num_layers (int, optional): The student ViT's depth. Defaults to
            None.
        alpha (float): Weight ``a``. Defaults to 0.5.
        temperature (float): Temperature ``T``. Defaults to 2.0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def loss(self, cls_logits: Tensor, token_logits: Optional[Tensor],
             teacher_logits: Tensor, gt_label: Tensor,
             task_classes: Tuple[int, int]) -> Dict[str, Tensor]:
        """``loss_ce`` and ``loss_kd`` (see the class docstring).

        Args:
            cls_logits (Tensor): ``last(CLS)``, ``B x num_classes``.
            token_logits (Tensor | None): Unused.
            teacher_logits (Tensor): The teacher's CLS logits.
            gt_label (Tensor): ``B`` labels.
            task_classes (tuple[int, int]): The current ``[start, end)``.

        Returns:
            dict[str, Tensor]: ``loss_ce`` (weighted by ``1 - a``) and
            ``loss_kd`` (weighted by ``a``, times ``T^2``).
        """
        start, end = task_classes
        kd = soft_kl(cls_logits[:, start:end], teacher_logits[:, start:end],
                     self.temperature)
        return dict(
            loss_ce=(1 - self.alpha) *
            self.ce(cls_logits, gt_label, task_classes),
            loss_kd=self.alpha * kd)
