from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce
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

    Training-time selection (``train=True``), as in the original L2P:

    - ``batchwise_prompt`` (on by default, like the official L2P configs):
      each image votes for its ``top_k`` prompts and every image of the
      batch gets the ``top_k`` prompts with the most votes (ties: the
      lower index). At test time each image keeps its own ``top_k`` (a
      test batch may mix tasks).
    - ``frequency_penalty`` (L2P's optional diversified selection, off by
      default like ``use_prompt_mask`` in the official CIFAR-100 config):
      from the second task on, an image selects by the distance ``(1 -
      cos(q, key_i)) * h_i`` with ``h_i`` the normalised frequency of prompt
      ``i`` in the training selections of the earlier tasks (ties, such as
      never-used prompts with ``h_i = 0``, broken by the plain distance),
      so that often-used prompts are penalised.

    The training selections are counted in the buffer
    :attr:`selection_counts` (per prompt, one count per image); at the
    start of each new task the counts so far become the frequency table
    :attr:`frequency` (summed over processes in distributed training).

    Prompt loss (the matching loss): ``loss_weight * mean_b sum_{j in
    K(b)} (1 - cos(q_b, key_j))`` over the prompts ``K(b)`` used for image
    ``b``.

    Args:
        embed_dims (int): The prompted ViT's embedding dimension.
        key_dims (int, optional): The query's dimension. Defaults to
            ``embed_dims``.
        pool_size (int): Number of prompts. Defaults to 30.
        length (int): Prompt length (even). Defaults to 20.
        top_k (int): Prompts selected per image. Defaults to 5.
        layers (Sequence[int]): Prompted layers. Defaults to ``(0, )``.
        loss_weight (float): Weight of the matching loss. Defaults to 1.0.
        batchwise_prompt (bool): Batch-wise majority vote of the prompts
            in training. Defaults to True.
        frequency_penalty (bool): Penalise the prompts used often in the
            earlier tasks, in training. Defaults to False.
        num_layers (int, optional): The backbone depth, to check
            ``layers`` at construction. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    optional_buffers = ('selection_counts', 'frequency', 'frequency_task')

    def __init__(self,
                 embed_dims: int,
                 key_dims: Optional[int] = None,
                 pool_size: int = 30,
                 length: int = 20,
                 top_k: int = 5,
                 layers: Sequence[int] = (0, ),
                 loss_weight: float = 1.0,
                 batchwise_prompt: bool = True,
                 frequency_penalty: bool = False,
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
        self.batchwise_prompt = bool(batchwise_prompt)
        self.frequency_penalty = bool(frequency_penalty)
        # persistent, so a task checkpoint carries the selection history
        self.register_buffer('selection_counts', torch.zeros(pool_size))
        self.register_buffer('frequency', torch.zeros(pool_size))
        self.register_buffer('frequency_task', torch.zeros((),
                                                           dtype=torch.long))
        self.prompts = nn.Parameter(
            torch.empty(pool_size, len(self.layers), length, embed_dims))
        self.keys = nn.Parameter(torch.empty(pool_size, self.key_dims))
        nn.init.uniform_(self.prompts, -1, 1)
        nn.init.uniform_(self.keys, -1, 1)
        self._check_after_init()

    def layer_args(self) -> Dict[str, Tuple[int, ...]]:
        """The layer arguments: ``{'layers': ...}``."""
        return {'layers': self.layers}

    def begin_task(self, task_id: int, num_tasks: int) -> None:
        """Start task ``task_id``; at a new task the selection counts so
        far become the frequency table.

        Args:
            task_id (int): The task index, 0-based.
            num_tasks (int): The number of tasks of the sequence.
        """
        super().begin_task(task_id, num_tasks)
        if self.task_id > int(self.frequency_task):
            counts = self.selection_counts.clone()
            all_reduce(counts, op='sum')  # no-op outside distributed runs
            self.frequency.copy_(counts)
            self.frequency_task.fill_(self.task_id)

    def select(self, cos: Tensor, train: bool) -> Tensor:
        """The prompts of each image.

        Args:
            cos (Tensor): ``B x pool_size`` cosine similarities of the
                queries to the keys.
            train (bool): Training-time selection (batch-wise vote,
                frequency penalty).

        Returns:
            Tensor: ``B x top_k`` prompt indices.
        """
        distance = 1 - cos
        total = float(self.frequency.sum())
        if train and self.frequency_penalty and total > 0:
            penalised = distance * (self.frequency / total)[None]
            # sort by the plain distance first, so that a stable sort by
            # the penalised one breaks its ties by the plain distance
            order = distance.argsort(dim=1, stable=True)
            rank = penalised.gather(1, order).argsort(dim=1, stable=True)
            idx = order.gather(1, rank[:, :self.top_k])
        else:
            idx = cos.topk(self.top_k, dim=1).indices
        if train and self.batchwise_prompt:
            votes = torch.bincount(idx.flatten(), minlength=self.pool_size)
            # descending votes; a stable sort keeps the lower index first
            major = votes.sort(descending=True, stable=True).indices
            idx = major[:self.top_k].expand(cos.shape[0], -1)
        return idx

    def forward(self,
                query: Tensor,
                train: bool = False) -> Tuple[Prefixes, Tensor]:
        """Select the ``top_k`` prompts per image.

        Args:
            query (Tensor): ``B x key_dims`` query features.
            train (bool): Training-time selection (see the class
                docstring; the selections are counted). Defaults to False.

        Returns:
            tuple[dict, Tensor]: Per-layer ``B x (top_k * length / 2) x
            embed_dims`` keys and values; the matching loss.
        """
        self._check_query(query)
        cos = F.normalize(query, dim=1) @ F.normalize(self.keys, dim=1).t()
        with torch.no_grad():
            idx = self.select(cos, train)
            if train:
                self.selection_counts += torch.bincount(
                    idx.flatten(),
                    minlength=self.pool_size).to(self.selection_counts.dtype)
        loss = (1 - cos.gather(1, idx)).sum(dim=1).mean() * self.loss_weight
        selected = self.prompts[idx]  # B x top_k x n_layers x L x D
        prefixes = {
            layer: split_prefix(selected[:, :, j])
            for j, layer in enumerate(self.layers)
        }
        return prefixes, loss
