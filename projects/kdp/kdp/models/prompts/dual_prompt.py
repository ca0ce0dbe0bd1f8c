from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import (Prefixes, check_prompt_layers, check_prompt_length,
                     merge_prefixes, split_prefix)
from .base_prompt_pool import BasePromptPool


@MODELS.register_module()
class DualPrompt(BasePromptPool):
    """DualPrompt: a shared G-prompt and task-specific E-prompts (prefix).

    - G-prompt: one prompt of length ``g_length`` per layer of
      ``g_layers``, shared by all tasks and images.
    - E-prompts: a pool of ``e_pool_size`` prompts (one per task), each
      with a key of the query's dimension and one prompt of length
      ``e_length`` per layer of ``e_layers``. In training the current
      task's E-prompt is used (and its key is pulled towards the queries);
      at test time the E-prompt whose key is the most cosine-similar to the
      query (top-1, among the tasks seen so far) is used.

    Prompt loss (training): ``loss_weight * mean_b (1 - cos(q_b,
    key_task))``; 0 at test time.

    Args:
        embed_dims (int): The prompted ViT's embedding dimension.
        key_dims (int, optional): The query's dimension. Defaults to
            ``embed_dims``.
        g_length (int): G-prompt length (even). Defaults to 6.
        g_layers (Sequence[int]): G-prompted layers. Defaults to (0, 1).
        e_pool_size (int): Number of E-prompts (at least the number of
            tasks). Defaults to 10.
        e_length (int): E-prompt length (even). Defaults to 20.
        e_layers (Sequence[int]): E-prompted layers. Defaults to
            (2, 3, 4).
        loss_weight (float): Weight of the matching loss. Defaults to 1.0.
        num_layers (int, optional): The backbone depth, to check the
            layers at construction. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int,
                 key_dims: Optional[int] = None,
                 g_length: int = 6,
                 g_layers: Sequence[int] = (0, 1),
                 e_pool_size: int = 10,
                 e_length: int = 20,
                 e_layers: Sequence[int] = (2, 3, 4),
                 loss_weight: float = 1.0,
                 num_layers: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(embed_dims, key_dims, num_layers, init_cfg)
        name = type(self).__name__
        self.g_length = check_prompt_length(g_length, 'g_length', name)
        self.e_length = check_prompt_length(e_length, 'e_length', name)
        self.g_layers = check_prompt_layers(g_layers, 'g_layers', name)
        self.e_layers = check_prompt_layers(e_layers, 'e_layers', name)
        if e_pool_size < 1:
            raise ValueError(f'{name}: e_pool_size={e_pool_size} must be '
                             f'positive')
        self.e_pool_size = e_pool_size
        self.loss_weight = loss_weight
        self.g_prompts = nn.Parameter(
            torch.empty(len(self.g_layers), g_length, embed_dims))
        self.e_prompts = nn.Parameter(
            torch.empty(e_pool_size, len(self.e_layers), e_length, embed_dims))
        self.e_keys = nn.Parameter(torch.empty(e_pool_size, self.key_dims))
        for param in (self.g_prompts, self.e_prompts, self.e_keys):
            nn.init.uniform_(param, -1, 1)
        self._check_after_init()

    def layer_args(self) -> Dict[str, Tuple[int, ...]]:
        """The layer arguments: ``g_layers`` and ``e_layers``."""
        return {'g_layers': self.g_layers, 'e_layers': self.e_layers}

    def begin_task(self, task_id: int, num_tasks: int) -> None:
        """Start task ``task_id``: its E-prompt is ``e_prompts[task_id]``.

        Args:
            task_id (int): The task index, 0-based.
            num_tasks (int): The number of tasks (at most ``e_pool_size``).
        """
        if num_tasks > self.e_pool_size:
            raise ValueError(
                f'DualPrompt: e_pool_size={self.e_pool_size} is smaller '
                f'than the number of tasks {num_tasks} (one E-prompt per '
                f'task)')
        super().begin_task(task_id, num_tasks)

    def forward(self,
                query: Tensor,
                train: bool = False) -> Tuple[Prefixes, Tensor]:
        """G-prefixes and the (task or query) selected E-prefixes.

        Args:
            query (Tensor): ``B x key_dims`` query features.
            train (bool): Use the current task's E-prompt (else select by
                query). Defaults to False.

        Returns:
            tuple[dict, Tensor]: Per-layer ``B x (length / 2) x
            embed_dims`` keys and values (G- then E-prefix where a layer
            has both); the matching loss (0 at test time).
        """
        self._check_query(query)
        batch = query.shape[0]
        cos = F.normalize(query, dim=1) @ F.normalize(self.e_keys, dim=1).t()
        if train:
            idx = torch.full((batch, ),
                             self.task_id,
                             dtype=torch.long,
                             device=query.device)
            loss = (1 - cos[:, self.task_id]).mean() * self.loss_weight
        else:
            idx = cos[:, :self.task_id + 1].argmax(dim=1)
            loss = self._zero(cos)
        g_prefixes = {
            layer: split_prefix(self.g_prompts[j].expand(batch, -1, -1))
            for j, layer in enumerate(self.g_layers)
        }
        selected = self.e_prompts[idx]  # B x n_layers x L x D
        e_prefixes = {
            layer: split_prefix(selected[:, j])
            for j, layer in enumerate(self.e_layers)
        }
        return merge_prefixes(g_prefixes, e_prefixes), loss
