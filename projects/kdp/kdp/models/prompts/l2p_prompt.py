from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import (Prefixes, check_prompt_layers, check_prompt_length,
                     split_prefix)
from .base_prompt_pool import BasePromptPool


@MODELS.register_module()
class L2PPrompt(BasePromptPool):
    """L2P prompt pool (Learning to Prompt), as prefix prompts.

    ``pool_size`` prompts, each with a learnable key of the query's
    dimension. For each image the ``top_k`` keys with the highest cosine
    similarity to the query are selected; their prompts (one per prompted
    layer) are concatenated, each prompt's first half giving prefix keys
    and second half prefix values: ``top_k * length / 2`` of each per
    layer. The whole pool is shared by all tasks.

    Prompt loss (the matching loss): ``loss_weight * mean_b sum_{j in
    top_k(b)} (1 - cos(q_b, key_j))``.

    Args:
        embed_dims (int): The prompted ViT's embedding dimension.
        key_dims (int, optional): The query's dimension. Defaults to
            ``embed_dims``.
        pool_size (int): Number of prompts. Defaults to 30.
        length (int): Prompt length (even). Defaults to 20.
        top_k (int): Prompts selected per image. Defaults to 5.
        layers (Sequence[int]): Prompted layers. Defaults to ``(0, )``.
        loss_weight (float): Weight of the matching loss. Defaults to 1.0.
        num_layers (int, optional): The backbone depth, to check
            ``layers`` at construction. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int,
                 key_dims: Optional[int] = None,
                 pool_size: int = 30,
                 length: int = 20,
                 top_k: int = 5,
                 layers: Sequence[int] = (0, ),
                 loss_weight: float = 1.0,
                 num_layers: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(embed_dims, key_dims, num_layers, init_cfg)
        name = type(self).__name__
        self.length = check_prompt_length(length, 'length', name)
        self.layers = check_prompt_layers(layers, 'layers', name)
        if not 1 <= top_k <= pool_size:
            raise ValueError(f'{name}: top_k={top_k} must be in [1, '
                             f'pool_size={pool_size}]')
        self.pool_size = pool_size
        self.top_k = top_k
        self.loss_weight = loss_weight
        self.prompts = nn.Parameter(
            torch.empty(pool_size, len(self.layers), length, embed_dims))
        self.keys = nn.Parameter(torch.empty(pool_size, self.key_dims))
        nn.init.uniform_(self.prompts, -1, 1)
        nn.init.uniform_(self.keys, -1, 1)
        self._check_after_init()

    def layer_args(self) -> Dict[str, Tuple[int, ...]]:
        """The layer arguments: ``{'layers': ...}``."""
        return {'layers': self.layers}

    def forward(self,
                query: Tensor,
                train: bool = False) -> Tuple[Prefixes, Tensor]:
        """Select the ``top_k`` prompts per image.

        Args:
            query (Tensor): ``B x key_dims`` query features.
            train (bool): Unused (L2P selects by query in both phases).
                Defaults to False.

        Returns:
            tuple[dict, Tensor]: Per-layer ``B x (top_k * length / 2) x
            embed_dims`` keys and values; the matching loss.
        """
        self._check_query(query)
        cos = F.normalize(query, dim=1) @ F.normalize(self.keys, dim=1).t()
        idx = cos.topk(self.top_k, dim=1).indices  # B x top_k
        loss = (1 - cos.gather(1, idx)).sum(dim=1).mean() * self.loss_weight
        selected = self.prompts[idx]  # B x top_k x n_layers x L x D
        prefixes = {
            layer: split_prefix(selected[:, :, j])
            for j, layer in enumerate(self.layers)
        }
        return prefixes, loss
