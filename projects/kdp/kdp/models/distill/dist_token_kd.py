from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import Prefixes
from .base_distill import BaseDistill
from .distill_inputs import DistillInputs


@MODELS.register_module()
class DistTokenKD(BaseDistill):
    """DeiT-style distillation token (hard distillation).

    A learnable distillation token is appended at the input of layer 0
    (like the KD token of KDP, without prompts); a head ``dist_last`` on its
    output is trained on the teacher's hard labels.

    - Loss: ``(1 - a) CE(last(CLS), y) + a CE(dist_last(DIST), argmax
      z_T)``, over the current task's classes (DeiT: ``a = 0.5``).
    - Inference: ``(last(CLS) + dist_last(DIST)) / 2``, as in DeiT.

    Args:
        alpha (float): Weight ``a``. Defaults to 0.5.
        temperature (float): Unused (hard labels); kept for a uniform
            config. Defaults to 2.0.
        **kwargs: :class:`BaseDistill`'s ``embed_dims``, ``num_classes``,
            ``num_layers``, ``alpha``, ``temperature``, ``init_cfg``.
    """

    num_tokens = 1

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dist_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        trunc_normal_(self.dist_token, std=0.02)
        self.dist_last = nn.Linear(self.embed_dims, self.num_classes)

    def prompts(self, batch_size: int) -> Tuple[Prefixes, Tensor]:
        """No prefixes; the distillation token.

        Args:
            batch_size (int): The batch size ``B``.

        Returns:
            tuple[dict, Tensor]: ``{}``; the ``B x 1 x D`` token.
        """
        return {}, self.dist_token.expand(batch_size, -1, -1)

    def token_logits(self, tokens: Tensor) -> Tensor:
        """``dist_last(DIST)``.

        Args:
            tokens (Tensor): The token's output, ``B x 1 x D``.

        Returns:
            Tensor: ``B x num_classes``.
        """
        return self.dist_last(tokens[:, 0])

    def predict_logits(self, cls_logits: Tensor,
                       token_logits: Tensor) -> Tensor:
        """``(last(CLS) + dist_last(DIST)) / 2``.

        Args:
            cls_logits (Tensor): ``last(CLS)``.
            token_logits (Tensor): ``dist_last(DIST)``.

        Returns:
            Tensor: ``B x num_classes``.
        """
        return (cls_logits + token_logits) / 2

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce`` on the CLS head, ``loss_kd`` (the teacher's hard
        label, weighted by ``a``) on the token head ``dist_last(DIST)``."""
        hard = inputs.task_logits(inputs.teacher_logits).argmax(dim=1)
        hard = hard + inputs.task_classes[0]
        return dict(
            loss_ce=(1 - self.alpha) * inputs.ce(inputs.cls_logits),
            loss_kd=self.alpha * inputs.ce(inputs.token_logits, hard.detach()))
