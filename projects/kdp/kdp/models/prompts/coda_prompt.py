from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from had_mm.registry import MODELS
from ..utils import (Prefixes, check_prompt_layers, check_prompt_length,
                     split_prefix)
from .base_prompt_pool import BasePromptPool


def _orthogonal_(param: Tensor) -> None:
    """Orthogonal init of ``param`` viewed as ``rows x rest``."""
    with torch.no_grad():
        flat = torch.empty(param.shape[0], param[0].numel())
        nn.init.orthogonal_(flat)
        param.copy_(flat.view_as(param))


def _ortho_penalty(mat: Tensor) -> Tensor:
    """``mean((M M^T - I)^2)`` for ``M`` of shape ``rows x dims``."""
    gram = mat @ mat.t()
    eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
    return ((gram - eye)**2).mean()


@MODELS.register_module()
class CODAPrompt(BasePromptPool):
    """CODA-Prompt: attention-weighted prompt components (prefix).

    Per prompted layer: ``pool_size`` prompt components ``P_m`` (``length
    x embed_dims``), keys ``K_m`` and attention vectors ``A_m`` (both
    ``key_dims``). For a query ``q`` the layer's prompt is

    ``p = sum_m cos(q * A_m, K_m) P_m``

    (``*`` element-wise), split into ``length / 2`` prefix keys and values.

    The pool is divided into ``num_tasks`` equal component ranges (given
    at :meth:`begin_task`). At task ``t`` the components, keys and
    attention vectors of ranges ``0..t`` are used; in training those of
    the earlier tasks are detached (frozen), so only task ``t``'s range
    learns. Components are initialised orthogonal.

    Prompt loss (training): ``ortho_weight * sum_layers (ortho(K) +
    ortho(A) + ortho(P))`` over the used components, ``ortho(M) = mean((M
    M^T - I)^2)``; with the default ``ortho_weight=0`` it is 0.

    Args:
        embed_dims (int): The prompted ViT's embedding dimension.
        key_dims (int, optional): The query's dimension. Defaults to
            ``embed_dims``.
        pool_size (int): Number of components per layer. Defaults to 100.
        length (int): Prompt length (even). Defaults to 8.
        layers (Sequence[int]): Prompted layers. Defaults to
            (0, 1, 2, 3, 4).
        ortho_weight (float): Weight of the orthogonality loss. Defaults
            to 0.
        num_layers (int, optional): The backbone depth, to check
            ``layers`` at construction. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int,
                 key_dims: Optional[int] = None,
                 pool_size: int = 100,
                 length: int = 8,
                 layers: Sequence[int] = (0, 1, 2, 3, 4),
                 ortho_weight: float = 0.,
                 num_layers: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(embed_dims, key_dims, num_layers, init_cfg)
        name = type(self).__name__
        self.length = check_prompt_length(length, 'length', name)
        self.layers = check_prompt_layers(layers, 'layers', name)
        if pool_size < 1:
            raise ValueError(f'{name}: pool_size={pool_size} must be '
                             f'positive')
        self.pool_size = pool_size
        self.ortho_weight = ortho_weight
        n_layers = len(self.layers)
        self.components = nn.Parameter(
            torch.empty(n_layers, pool_size, length, embed_dims))
        self.keys = nn.Parameter(
            torch.empty(n_layers, pool_size, self.key_dims))
        self.attention = nn.Parameter(
            torch.empty(n_layers, pool_size, self.key_dims))
        for param in (self.components, self.keys, self.attention):
            for j in range(n_layers):
                _orthogonal_(param.data[j])
        self._check_after_init()

    def layer_args(self) -> Dict[str, Tuple[int, ...]]:
        """The layer arguments: ``{'layers': ...}``."""
        return {'layers': self.layers}

    def begin_task(self, task_id: int, num_tasks: int) -> None:
        """Start task ``task_id``: its components are
        :attr:`task_range`.

        Args:
            task_id (int): The task index, 0-based.
            num_tasks (int): The number of tasks (at most ``pool_size``).
        """
        if num_tasks > self.pool_size:
            raise ValueError(
                f'CODAPrompt: pool_size={self.pool_size} is smaller than '
                f'the number of tasks {num_tasks} (each task needs its own '
                f'components)')
        super().begin_task(task_id, num_tasks)

    @property
    def task_range(self) -> Tuple[int, int]:
        """tuple[int, int]: The current task's components ``[start,
        end)``."""
        per_task = self.pool_size // self.num_tasks
        return self.task_id * per_task, (self.task_id + 1) * per_task

    def forward(self,
                query: Tensor,
                train: bool = False) -> Tuple[Prefixes, Tensor]:
        """Per-layer attention-weighted prompts.

        Args:
            query (Tensor): ``B x key_dims`` query features.
            train (bool): Detach the earlier tasks' components and add the
                orthogonality loss. Defaults to False.

        Returns:
            tuple[dict, Tensor]: Per-layer ``B x (length / 2) x
            embed_dims`` keys and values; the prompt loss.
        """
        self._check_query(query)
        start, end = self.task_range
        loss = self._zero(query)
        prefixes = {}
        for j, layer in enumerate(self.layers):
            keys = self.keys[j, :end]
            attention = self.attention[j, :end]
            components = self.components[j, :end]
            if train and start > 0:
                keys = torch.cat([keys[:start].detach(), keys[start:]])
                attention = torch.cat(
                    [attention[:start].detach(), attention[start:]])
                components = torch.cat(
                    [components[:start].detach(), components[start:]])
            # B x M x key_dims: the query seen through each component
            attended = F.normalize(query[:, None] * attention[None], dim=2)
            weights = (attended * F.normalize(keys, dim=1)[None]).sum(dim=2)
            prompts = torch.einsum('bm,mld->bld', weights, components)
            prefixes[layer] = split_prefix(prompts)
            if train and self.ortho_weight > 0:
                loss = loss + self.ortho_weight * (
                    _ortho_penalty(keys) + _ortho_penalty(attention) +
                    _ortho_penalty(components.flatten(1)))
        return prefixes, loss
