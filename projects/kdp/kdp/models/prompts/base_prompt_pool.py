from typing import Dict, Optional, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor

from ..utils import Prefixes, check_prompt_layers


class BasePromptPool(BaseModule):
    """Base of the query-selected prompt pools (L2P, DualPrompt, CODA).

    A pool turns the query feature of a batch (the final CLS feature of a
    frozen ViT) into per-layer prefix prompts for the prompted ViT, plus a
    prompt loss. Subclasses implement :meth:`forward` and
    :meth:`layer_args`.

    Args:
        embed_dims (int): The prompted ViT's embedding dimension (prompt
            vectors).
        key_dims (int, optional): The query ViT's embedding dimension
            (prompt keys). Defaults to ``embed_dims``.
        num_layers (int, optional): The prompted ViT's depth; if given,
            the prompt layers are checked at construction (otherwise by
            :meth:`check_depth` when attached to a backbone). Defaults to
            None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    #: Buffers that checkpoints written before they existed lack; loading
    #: such a checkpoint keeps their current values.
    optional_buffers: Tuple[str, ...] = ()

    def __init__(self,
                 embed_dims: int,
                 key_dims: Optional[int] = None,
                 num_layers: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(embed_dims, int) or embed_dims <= 0:
            raise ValueError(f'{type(self).__name__}: embed_dims='
                             f'{embed_dims!r} must be a positive integer')
        self.embed_dims = embed_dims
        self.key_dims = key_dims or embed_dims
        self.task_id = 0
        self.num_tasks = 1
        self._num_layers_arg = num_layers

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        # an older checkpoint without the selection / re-init state loads
        # with the current values (so strict loading still works)
        for name in self.optional_buffers:
            state_dict.setdefault(prefix + name, getattr(self, name))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check_after_init(self) -> None:
        """Run :meth:`check_depth` if ``num_layers`` was given."""
        if self._num_layers_arg is not None:
            self.check_depth(self._num_layers_arg)

    def layer_args(self) -> Dict[str, Tuple[int, ...]]:
        """The layer arguments: ``{argument name: layer indices}``."""
        raise NotImplementedError

    @property
    def prompt_layers(self) -> Tuple[int, ...]:
        """tuple[int]: Every layer that receives a prefix, sorted."""
        layers = set()
        for value in self.layer_args().values():
            layers.update(value)
        return tuple(sorted(layers))

    def check_depth(self, num_layers: int) -> None:
        """Check that all prompt layers exist in a backbone of that depth.

        Args:
            num_layers (int): The backbone depth.

        Raises:
            ValueError: Naming the parameter, its layers and the depth.
        """
        for name, layers in self.layer_args().items():
            check_prompt_layers(layers, name, type(self).__name__, num_layers)

    def begin_task(self, task_id: int, num_tasks: int) -> None:
        """Start task ``task_id`` of ``num_tasks``.

        Args:
            task_id (int): The task index, 0-based.
            num_tasks (int): The number of tasks of the sequence.
        """
        if not 0 <= task_id < num_tasks:
            raise ValueError(f'{type(self).__name__}: task_id={task_id} '
                             f'must be in [0, num_tasks={num_tasks})')
        self.task_id = int(task_id)
        self.num_tasks = int(num_tasks)

    def forward(self,
                query: Tensor,
                train: bool = False) -> Tuple[Prefixes, Tensor]:
        """Per-layer prefixes for a batch, and the prompt loss.

        Args:
            query (Tensor): The query features, ``B x key_dims``.
            train (bool): Training-time selection (e.g. DualPrompt uses the
                current task's E-prompt) instead of test-time selection.
                Defaults to False.

        Returns:
            tuple[dict[int, tuple[Tensor, Tensor]], Tensor]: ``{layer:
            (keys, values)}`` with ``B x P x embed_dims`` tensors, and the
            scalar prompt loss (already weighted; 0 where there is none).
        """
        raise NotImplementedError

    def _check_query(self, query: Tensor) -> None:
        if query.dim() != 2 or query.shape[1] != self.key_dims:
            raise ValueError(
                f'{type(self).__name__}: the query must be B x '
                f'{self.key_dims} (key_dims), got {tuple(query.shape)}')

    @staticmethod
    def _zero(ref: Tensor) -> Tensor:
        return torch.zeros((), dtype=ref.dtype, device=ref.device)
