"""Keep every rank's copy of the model identical.

DDP keeps the parameters of the wrapped model equal across ranks (same
start, all-reduced gradients), but nothing else: mmengine wraps with
``broadcast_buffers=False``, so each rank's BatchNorm statistics follow its
own shard, and the modules outside DDP (a frozen teacher held by
:class:`~had_mm.models.distill.FrozenTeacherMixin`, a heterogeneous
teacher's adapters) are whatever each rank made of them. The helpers here
broadcast such state from rank 0 (:func:`broadcast_module_states`) and
average the gradients of modules that train outside DDP
(:func:`all_reduce_grads`), through :mod:`mmengine.dist`; on one process
they do nothing.
"""
import logging
from collections import OrderedDict
from typing import Iterable, List

import torch
import torch.nn as nn
from mmengine.dist import all_reduce_params, broadcast, get_world_size
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper, revert_sync_batchnorm
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

#: Where :class:`~had_mm.models.distill.FrozenTeacherMixin` keeps a teacher
#: (in the instance ``__dict__``, outside ``_modules``).
_TEACHER_KEY = '_frozen_teacher'


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if is_model_wrapper(module) else module


def module_states(module: nn.Module,
                  params: bool = True,
                  buffers: bool = True,
                  teachers: bool = True) -> List[torch.Tensor]:
    """Every parameter and buffer a rank holds for ``module``, each once.

    Args:
        module (nn.Module): The model (a DDP wrapper is unwrapped).
        params (bool): Include parameters. Defaults to True.
        buffers (bool): Include buffers (BN statistics...). Defaults to
            True.
        teachers (bool): Also the teachers held outside the module tree
            (:class:`~had_mm.models.distill.FrozenTeacherMixin`), their own
            teachers too (a heterogeneous teacher's frozen model). Defaults
            to True.

    Returns:
        list[Tensor]: In a fixed order (the same modules give the same
        order on every rank).
    """
    out: List[torch.Tensor] = []
    seen_tensors, seen_modules = set(), set()
    pending = [_unwrap(module)]
    while pending:
        root = pending.pop(0)
        if id(root) in seen_modules:
            continue
        seen_modules.add(id(root))
        tensors = []
        if params:
            tensors += list(root.parameters())
        if buffers:
            tensors += list(root.buffers())
        for tensor in tensors:
            if id(tensor) not in seen_tensors:
                seen_tensors.add(id(tensor))
                out.append(tensor)
        if teachers:
            for sub in root.modules():
                teacher = sub.__dict__.get(_TEACHER_KEY)
                if isinstance(teacher, nn.Module):
                    pending.append(teacher)
    return out


def broadcast_tensors(tensors: Iterable[torch.Tensor], src: int = 0) -> int:
    """Overwrite ``tensors`` with rank ``src``'s values, in place.

    Tensors are flattened into one message per device and dtype (as DDP
    does when it starts), so a model costs a few broadcasts.

    Args:
        tensors (Iterable[Tensor]): The same tensors, in the same order, on
            every rank.
        src (int): The rank whose values are kept. Defaults to 0.

    Returns:
        int: The number of tensors (0 on one process).
    """
    tensors = list(tensors)
    if get_world_size() == 1 or not tensors:
        return 0
    buckets: 'OrderedDict[tuple, list]' = OrderedDict()
    for tensor in tensors:
        buckets.setdefault((tensor.device, tensor.dtype), []).append(tensor)
    with torch.no_grad():
        for bucket in buckets.values():
            flat = _flatten_dense_tensors([t.data for t in bucket])
            broadcast(flat, src)
            for tensor, synced in zip(bucket,
                                      _unflatten_dense_tensors(flat, bucket)):
                tensor.data.copy_(synced)
    return len(tensors)


def broadcast_module_states(module: nn.Module,
                            params: bool = True,
                            buffers: bool = True,
                            teachers: bool = True,
                            src: int = 0) -> int:
    """Give every rank rank ``src``'s parameters and buffers of ``module``
    (and of the teachers it holds, see :func:`module_states`).

    Args:
        module (nn.Module): The model (a DDP wrapper is unwrapped).
        params (bool): Broadcast parameters. Defaults to True.
        buffers (bool): Broadcast buffers. Defaults to True.
        teachers (bool): Include the teachers. Defaults to True.
        src (int): The rank whose values are kept. Defaults to 0.

    Returns:
        int: The number of tensors broadcast (0 on one process).
    """
    if get_world_size() == 1:
        return 0
    return broadcast_tensors(
        module_states(module, params, buffers, teachers), src)


def all_reduce_grads(params: Iterable[nn.Parameter]) -> None:
    """Average the gradients of ``params`` over the ranks, in place (what
    DDP does for the wrapped model), for a module trained outside DDP.

    A parameter without a gradient counts as a zero gradient, so that every
    rank sends the same tensors.

    Args:
        params (Iterable[Parameter]): The same parameters, in the same
            order, on every rank.
    """
    if get_world_size() == 1:
        return
    grads = []
    for param in params:
        if not param.requires_grad:
            continue
        if param.grad is None:
            param.grad = torch.zeros_like(param)
        grads.append(param.grad)
    if grads:
        all_reduce_params(grads, op='mean')


def revert_sync_bn_on_cpu(model: nn.Module, distributed: bool,
                          device: str) -> nn.Module:
    """Turn SyncBN into BN where torch's SyncBatchNorm cannot run.

    ``SyncBatchNorm`` refuses CPU tensors in training (it gathers the
    statistics with GPU kernels), so a config that asks for SyncBN (the
    GPU configs do) would stop at the first iteration of a gloo run.
    There it becomes plain BN, with one log line: each rank then
    normalises with its own batch, and the statistics are broadcast from
    rank 0 (see :func:`broadcast_module_states`). On one process mmengine
    reverts SyncBN itself.

    Args:
        model (nn.Module): The model, before the DDP wrap.
        distributed (bool): Whether this is a distributed run.
        device (str): The device it trains on (mmengine's
            ``get_device()``).

    Returns:
        nn.Module: The model (a new one only if it is a SyncBN itself).
    """
    if not distributed or device != 'cpu':
        return model
    # torch's and mmcv's (MMSyncBN) SyncBatchNorm
    count = sum(type(m).__name__ == 'SyncBatchNorm' for m in model.modules())
    if not count:
        return model
    print_log(
        f'SyncBN -> BN in {count} layers: torch\'s SyncBatchNorm needs '
        f'GPUs and this run is on CPUs (gloo); each rank normalises with '
        f'its own batch, and the BN statistics are broadcast from rank 0.',
        logger='current',
        level=logging.WARNING)
    return revert_sync_batchnorm(model)
