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


def gram_schmidt_new_rows(old: Tensor, num_new: int,
                          generator: torch.Generator) -> Tensor:
    """``num_new`` random unit rows orthogonal to each other and to the rows
    of ``old``.

    Random normal vectors are orthogonalised by modified Gram-Schmidt
    against an orthonormal basis of ``old``'s rows and then against each
    other, each pass done twice (one pass loses orthogonality to rounding),
    in float64.

    Args:
        old (Tensor): ``n x d`` rows to be orthogonal to (any, e.g. the
            trained components of earlier tasks; ``n`` may be 0).
        num_new (int): Number of new rows, with ``n + num_new <= d``.
        generator (torch.Generator): The random stream of the draws.

    Returns:
        Tensor: ``num_new x d`` in ``old``'s dtype and device.
    """
    dims = old.shape[1]
    if old.shape[0] + num_new > dims:
        raise ValueError(f'gram_schmidt_new_rows: {old.shape[0]} old + '
                         f'{num_new} new rows cannot be orthogonal in '
                         f'{dims} dimensions')
    basis = []

    def orthogonalise(vec: Tensor) -> Tensor:
        for _ in range(2):
            for unit in basis:
                vec = vec - (vec @ unit) * unit
        return vec

    for row in old.detach().to('cpu', torch.float64):
        norm_before = row.norm()
        row = orthogonalise(row)
        # skip rows (numerically) in the span of the earlier ones
        if row.norm() > 1e-10 * max(float(norm_before), 1.0):
            basis.append(row / row.norm())
    new = []
    while len(new) < num_new:
        vec = orthogonalise(
            torch.randn(dims, generator=generator, dtype=torch.float64))
        if vec.norm() > 1e-6:  # a draw in the span: draw again
            basis.append(vec / vec.norm())
            new.append(basis[-1])
    return torch.stack(new).to(old.device, old.dtype)


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

    With ``gram_schmidt`` (on by default, as in CODA-Prompt), at the start
    of every new task ``t > 0`` (:meth:`begin_task`) the components, keys
    and attention vectors of task ``t``'s range are re-initialised per
    layer by Gram-Schmidt: random unit vectors orthogonal to those of the
    earlier tasks' ranges (as trained) and to each other (the components
    flattened to ``length * embed_dims``). This needs ``pool_size <=
    key_dims`` and ``pool_size <= length * embed_dims``. The draws come
    from the pool's own random stream (seeded at construction), and the
    buffer :attr:`reinit_task` records the last re-initialised task so a
    task is never re-initialised twice.

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
        gram_schmidt (bool): Re-initialise each new task's components
            orthogonal to the earlier ones. Defaults to True.
        num_layers (int, optional): The backbone depth, to check
            ``layers`` at construction. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    optional_buffers = ('reinit_task', )

    def __init__(self,
                 embed_dims: int,
                 key_dims: Optional[int] = None,
                 pool_size: int = 100,
                 length: int = 8,
                 layers: Sequence[int] = (0, 1, 2, 3, 4),
                 ortho_weight: float = 0.,
                 gram_schmidt: bool = True,
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
        self.gram_schmidt = bool(gram_schmidt)
        room = min(self.key_dims, length * embed_dims)
        if self.gram_schmidt and pool_size > room:
            raise ValueError(
                f'{name}: gram_schmidt needs pool_size={pool_size} <= '
                f'min(key_dims, length * embed_dims)={room} (orthogonal '
                f'components); use a smaller pool or gram_schmidt=False')
        self.register_buffer('reinit_task', torch.zeros((), dtype=torch.long))
        # peeked without advancing the global stream, so every other
        # parameter is initialised as without Gram-Schmidt
        with torch.random.fork_rng(devices=[]):
            self._seed = int(torch.randint(2**31 - 1, ()).item())

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
        if self.gram_schmidt and self.task_id > int(self.reinit_task):
            self.reinit_task_range()
            self.reinit_task.fill_(self.task_id)

    @torch.no_grad()
    def reinit_task_range(self) -> None:
        """Re-initialise the current task's components, keys and attention
        vectors by Gram-Schmidt against the earlier tasks' (per layer)."""
        start, end = self.task_range
        gen = torch.Generator().manual_seed(self._seed + self.task_id)
        for param in (self.components, self.keys, self.attention):
            for j in range(param.shape[0]):
                rows = param[j].flatten(1)
                rows[start:end] = gram_schmidt_new_rows(
                    rows[:start], end - start, gen)

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
