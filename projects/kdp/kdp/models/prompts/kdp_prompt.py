from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import (Prefixes, check_prompt_layers, check_prompt_length,
                     split_prefix)


@MODELS.register_module()
class KDPPrompt(BaseModule):
    """The KD prompts of KDP, globally shared (not selected per task).

    - One learnable KD token (``1 x embed_dims``), appended to the token
      sequence at the input of layer 0; it flows through all blocks and
      its output feeds the ``kd_last`` head.
    - One prefix prompt of length ``length`` (``length / 2`` keys and
      ``length / 2`` values) on each layer of ``layers`` (by default
      ``1 .. num_layers - 1``, i.e. 1..11 for a 12-layer ViT).

    The token and prompts are initialised with a truncated normal (std
    0.02), like a ViT's class token.

    Args:
        embed_dims (int): The ViT's embedding dimension.
        num_layers (int, optional): The ViT's depth; needed when ``layers``
            is None, and used to check ``layers``. Defaults to None.
        length (int): Prefix prompt length (even). Defaults to 6.
        layers (Sequence[int], optional): Prompted layers. Defaults to
            None: ``1 .. num_layers - 1``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int,
                 num_layers: Optional[int] = None,
                 length: int = 6,
                 layers: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        self.length = check_prompt_length(length, 'length', name)
        if layers is None:
            if num_layers is None:
                raise ValueError(f'{name}: needs num_layers (the backbone '
                                 f'depth) or explicit layers')
            layers = range(1, num_layers)
        self.layers = check_prompt_layers(layers, 'layers', name, num_layers)
        self.embed_dims = embed_dims
        self.kd_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.prompts = nn.Parameter(
            torch.zeros(len(self.layers), length, embed_dims))
        trunc_normal_(self.kd_token, std=0.02)
        trunc_normal_(self.prompts, std=0.02)

    def layer_args(self) -> Dict[str, Tuple[int, ...]]:
        """The layer arguments: ``{'layers': ...}``."""
        return {'layers': self.layers}

    def check_depth(self, num_layers: int) -> None:
        """Check that all prompt layers exist in a backbone of that depth.

        Args:
            num_layers (int): The backbone depth.
        """
        check_prompt_layers(self.layers, 'layers',
                            type(self).__name__, num_layers)

    def forward(self, batch_size: int) -> Tuple[Prefixes, Tensor]:
        """The prefixes and the KD token for a batch.

        Args:
            batch_size (int): The batch size ``B``.

        Returns:
            tuple[dict, Tensor]: Per-layer ``B x (length / 2) x
            embed_dims`` keys and values; the KD token ``B x 1 x
            embed_dims``.
        """
        prefixes = {
            layer: split_prefix(self.prompts[j].expand(batch_size, -1, -1))
            for j, layer in enumerate(self.layers)
        }
        return prefixes, self.kd_token.expand(batch_size, -1, -1)
