"""Helpers shared by the KDP models: argument checks, prefix merging and
loading pretrained ViT weights with readable errors."""
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from had_mm.checkpoint import (CheckpointLoadError, read_checkpoint,
                               state_dict_of, strip_prefix)

#: Per-layer prefix prompts: ``{layer index: (keys, values)}``, both
#: ``B x P x D`` (``P`` prefix vectors of the embedding dimension ``D``).
Prefixes = Dict[int, Tuple[Tensor, Tensor]]

#: Folders of checkpoints that a command of the project makes, and that
#: command (what a missing file's error names).
CHECKPOINT_MAKERS = {
    osp.join('work_dirs', 'kdp_tiny_pretrain'):
    'PYTHONPATH=. python projects/kdp/tools/pretrain_tiny_vit.py',
}


def check_non_negative(value: float,
                       name: str,
                       owner: str,
                       strict: bool = False) -> float:
    """Check a weight (a loss weight, ``alpha``): not negative; with
    ``strict``, a temperature: positive.

    Args:
        value (float): The value.
        name (str): The argument's name, for the message.
        owner (str): The class that takes the argument, for the message.
        strict (bool): Refuse 0 too. Defaults to False.

    Returns:
        float: ``value`` as a float.
    """
    if value < 0 or strict and value == 0:
        need = 'positive' if strict else 'non-negative'
        raise ValueError(f'{owner}: {name}={value} must be {need}')
    return float(value)


def check_prompt_length(length: int, name: str, owner: str) -> int:
    """Check a prefix prompt length: a positive even number.

    Args:
        length (int): The prompt length ``L`` (``L / 2`` key vectors and
            ``L / 2`` value vectors).
        name (str): The argument's name, for the message.
        owner (str): The class that takes the argument, for the message.

    Returns:
        int: ``length``.
    """
    if isinstance(length, bool) or not isinstance(length, int) or \
            length <= 0 or length % 2:
        raise ValueError(
            f'{owner}: {name}={length!r} must be a positive even integer '
            f'(a prefix prompt of length L is split into L/2 key vectors '
            f'and L/2 value vectors)')
    return length


def check_prompt_layers(layers: Iterable[int],
                        name: str,
                        owner: str,
                        num_layers: Optional[int] = None) -> Tuple[int, ...]:
    """Check the layer indices a prompt is attached to.

    Args:
        layers (Iterable[int]): Layer indices, 0-based.
        name (str): The argument's name, for the message.
        owner (str): The class that takes the argument, for the message.
        num_layers (int, optional): The backbone depth; if given, every
            index must be below it. Defaults to None.

    Returns:
        tuple[int]: The layer indices.
    """
    if isinstance(layers, int):
        layers = (layers, )
    layers = tuple(int(i) for i in layers)
    if len(set(layers)) != len(layers):
        raise ValueError(f'{owner}: {name}={list(layers)} repeats a layer')
    negative = [i for i in layers if i < 0]
    if negative:
        raise ValueError(f'{owner}: {name}={list(layers)} has negative '
                         f'layer indices {negative}')
    if num_layers is not None:
        beyond = [i for i in layers if i >= num_layers]
        if beyond:
            raise ValueError(
                f'{owner}: {name}={list(layers)} has layer(s) {beyond} '
                f'beyond the backbone depth {num_layers} (valid layers '
                f'are 0..{num_layers - 1})')
    return layers


def split_prefix(prompts: Tensor) -> Tuple[Tensor, Tensor]:
    """Split prompts into prefix keys and values.

    The first half of every prompt gives the key vectors, the second half
    the value vectors.

    Args:
        prompts (Tensor): ``B x L x D`` or ``B x N x L x D`` (``N`` prompts
            of length ``L`` each, concatenated).

    Returns:
        tuple[Tensor, Tensor]: Keys and values, ``B x (N * L / 2) x D``.
    """
    if prompts.dim() == 3:
        prompts = prompts.unsqueeze(1)
    half = prompts.shape[2] // 2
    batch, dims = prompts.shape[0], prompts.shape[-1]
    keys = prompts[:, :, :half].reshape(batch, -1, dims)
    values = prompts[:, :, half:].reshape(batch, -1, dims)
    return keys, values


def merge_prefixes(*all_prefixes: Optional[Prefixes]) -> Prefixes:
    """Concatenate the prefixes of several prompt modules layer by layer.

    Args:
        *all_prefixes (dict | None): Prefix dicts (None or empty ones are
            skipped).

    Returns:
        dict[int, tuple[Tensor, Tensor]]: Per layer, the keys and values of
        all inputs concatenated along the token dimension (in the given
        order).
    """
    merged: Dict[int, Tuple[List[Tensor], List[Tensor]]] = {}
    for prefixes in all_prefixes:
        for layer, (keys, values) in (prefixes or {}).items():
            entry = merged.setdefault(layer, ([], []))
            entry[0].append(keys)
            entry[1].append(values)
    return {
        layer: (torch.cat(ks, dim=1) if len(ks) > 1 else ks[0],
                torch.cat(vs, dim=1) if len(vs) > 1 else vs[0])
        for layer, (ks, vs) in sorted(merged.items())
    }


def _extract_state_dict(ckpt: object) -> Dict[str, Tensor]:
    """The backbone weights of a checkpoint (classifier or bare backbone)."""
    state = ckpt
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model'):
            if isinstance(ckpt.get(key), dict):
                state = ckpt[key]
                break
    if not isinstance(state, dict):
        raise TypeError('not a state dict')
    state = {
        k: v
        for k, v in state_dict_of(state).items() if isinstance(v, Tensor)
    }
    if any(k.startswith('backbone.') for k in state):
        state = strip_prefix(state, 'backbone.')
    return state


def load_vit_checkpoint(vit: nn.Module, path: str, name: str) -> None:
    """Load pretrained weights into an mmpretrain ``VisionTransformer``.

    Accepts an mmpretrain/mmengine checkpoint (``state_dict`` with
    ``backbone.*`` keys, e.g. an ``ImageClassifier``), a bare backbone
    state dict or a ``{'model': ...}`` dict. The position embedding is
    resized by mmpretrain when the patch grid differs; any other mismatch
    is an error.

    Args:
        vit (nn.Module): The ``VisionTransformer`` to load into.
        path (str): The checkpoint file.
        name (str): The argument that named the file (for messages), e.g.
            ``'backbone_checkpoint'``.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        CheckpointLoadError: If it is truncated, corrupt or needs full
            unpickling (read by :func:`had_mm.checkpoint.read_checkpoint`).
        ValueError: If the checkpoint is of another ViT size: the message
            names the first mismatching key and both shapes (or the first
            missing / unexpected key).
    """
    if not osp.isfile(path):
        made_by = [
            cmd for folder, cmd in CHECKPOINT_MAKERS.items()
            if osp.normpath(path).startswith(folder + osp.sep)
        ]
        hint = f'; make it with `{made_by[0]}`' if made_by else ''
        raise FileNotFoundError(
            f'{name}: checkpoint file "{path}" does not exist{hint}')
    try:
        ckpt = read_checkpoint(path)
    except CheckpointLoadError as err:  # one line naming the file
        raise type(err)(f'{name}: {err}') from None
    try:
        state = _extract_state_dict(ckpt)
    except TypeError:
        raise ValueError(f'{name}: "{path}" holds no state dict (found '
                         f'{type(ckpt).__name__})') from None
    own = vit.state_dict()
    arch = (f'embed_dims={getattr(vit, "embed_dims", "?")}, '
            f'num_layers={getattr(vit, "num_layers", "?")}')
    for key, value in own.items():
        if key not in state:
            continue
        theirs = state[key]
        if key == 'pos_embed':
            # the token count may differ (resized by mmpretrain); the
            # embedding dimension may not
            same = theirs.dim() == value.dim() and \
                theirs.shape[-1] == value.shape[-1]
        else:
            same = theirs.shape == value.shape
        if not same:
            raise ValueError(
                f'{name}: "{path}" is a checkpoint of another ViT size: '
                f'"{key}" has shape {tuple(theirs.shape)} in the checkpoint '
                f'but {tuple(value.shape)} in the model ({arch})')
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        what = []
        if missing:
            what.append(f'{len(missing)} missing key(s), the first '
                        f'"{missing[0]}"')
        if unexpected:
            what.append(f'{len(unexpected)} unexpected key(s), the first '
                        f'"{unexpected[0]}"')
        raise ValueError(
            f'{name}: "{path}" does not match the model ({arch}): '
            f'{" and ".join(what)} (a ViT of another depth, or not an '
            f'mmpretrain VisionTransformer checkpoint)')
    vit.load_state_dict(state, strict=True)
