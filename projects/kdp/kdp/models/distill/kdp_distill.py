from typing import Dict, Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from had_mm.registry import MODELS
from ..prompts import KDPPrompt
from ..utils import Prefixes
from .base_distill import BaseDistill
from .distill_inputs import DistillInputs


@MODELS.register_module()
class KDPDistill(BaseDistill):
    """KDP: knowledge distillation based on prompts.

    Adds the globally shared :class:`KDPPrompt` (a KD token appended at the
    input of layer 0, prefix prompts of length ``prompt_length`` on layers
    ``1 .. depth - 1``) and a head ``kd_last`` on the KD token's output.

    - Loss: ``(1 - a) CE(last(CLS), y) + a T^2 KL(softmax(z_T / T) ||
      softmax(kd_last(KD) / T))``, both over the current task's classes
      (``z_T``: the teacher's CLS logits; the classifier adds the prompt
      pool's loss).
    - Inference: ``(1 - a) last(CLS) + a kd_last(KD)``.

    Args:
        alpha (float): Weight ``a``. Defaults to 0.5.
        temperature (float): Temperature ``T``. Defaults to 2.0.
        prompt_length (int): KD prefix prompt length (even). Defaults to 6.
        prompt_layers (Sequence[int], optional): KD-prompted layers.
            Defaults to None: ``1 .. num_layers - 1``.
        **kwargs: :class:`BaseDistill`'s ``embed_dims``, ``num_classes``,
            ``num_layers``, ``alpha``, ``temperature``, ``init_cfg``.
    """

    num_tokens = 1

    def __init__(self,
                 prompt_length: int = 6,
                 prompt_layers: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.kd_prompt = KDPPrompt(
            embed_dims=self.embed_dims,
            num_layers=self.num_layers,
            length=prompt_length,
            layers=prompt_layers)
        self.kd_last = nn.Linear(self.embed_dims, self.num_classes)

    def check_depth(self, num_layers: int) -> None:
        """Check the KD prompt layers against the backbone depth.

        Args:
            num_layers (int): The backbone depth.
        """
        self.kd_prompt.check_depth(num_layers)

    def prompts(self, batch_size: int) -> Tuple[Prefixes, Tensor]:
        """The KD prefixes and the KD token.

        Args:
            batch_size (int): The batch size ``B``.

        Returns:
            tuple[dict, Tensor]: Per-layer prefixes; ``B x 1 x D`` token.
        """
        return self.kd_prompt(batch_size)

    def token_logits(self, tokens: Tensor) -> Tensor:
        """``kd_last(KD)``.

        Args:
            tokens (Tensor): The KD token's output, ``B x 1 x D``.

        Returns:
            Tensor: ``B x num_classes``.
        """
        return self.kd_last(tokens[:, 0])

    def predict_logits(self, cls_logits: Tensor,
                       token_logits: Tensor) -> Tensor:
        """``(1 - a) last(CLS) + a kd_last(KD)``.

        Args:
            cls_logits (Tensor): ``last(CLS)``.
            token_logits (Tensor): ``kd_last(KD)``.

        Returns:
            Tensor: ``B x num_classes``.
        """
        return (1 - self.alpha) * cls_logits + self.alpha * token_logits

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce`` on the CLS head (weighted by ``1 - a``) and
        ``loss_kd`` on the KD head ``kd_last(KD)`` (weighted by ``a``,
        times ``T^2``)."""
        return self.ce_and_soft_kd(inputs, inputs.token_logits)
