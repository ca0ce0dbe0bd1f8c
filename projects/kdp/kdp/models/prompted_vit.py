from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from torch import Tensor

from had_mm.registry import MODELS
from .utils import Prefixes


def prefix_attention(attn: nn.Module,
                     x: Tensor,
                     prefix: Optional[Tuple[Tensor, Tensor]] = None) -> Tensor:
    """mmpretrain ``MultiheadAttention.forward`` with prefix prompts.

    The prefix keys / values are concatenated in front of the layer's own
    keys / values (after the ``qkv`` projection, split into the same
    heads); the queries are unchanged, so the output has as many tokens as
    ``x``::

        out = proj(softmax(q [pk; k]^T * scale) [pv; v])

    Args:
        attn (nn.Module): An mmpretrain ``MultiheadAttention`` (``qkv``,
            ``num_heads``, ``head_dims``, ``proj``, ...).
        x (Tensor): The normalised tokens, ``B x N x C``.
        prefix (tuple[Tensor, Tensor], optional): Prefix keys and values,
            each ``B x P x D`` with ``D = attn.embed_dims`` (``P`` may be
            0). None runs the plain attention. Defaults to None.

    Returns:
        Tensor: ``B x N x D``, what ``attn(x)`` returns (with the prefix).
    """
    batch, num, _ = x.shape
    qkv = attn.qkv(x).reshape(batch, num, 3, attn.num_heads,
                              attn.head_dims).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if prefix is not None:
        if attn.v_shortcut:
            raise NotImplementedError(
                'prefix prompts with v_shortcut attention')
        keys, values = prefix
        if keys.shape != values.shape or keys.shape[0] != batch or \
                keys.shape[-1] != attn.embed_dims:
            raise ValueError(
                f'prefix keys {tuple(keys.shape)} / values '
                f'{tuple(values.shape)} must both be B x P x D with '
                f'B={batch}, D={attn.embed_dims}')
        keys = keys.to(k.dtype).reshape(batch, -1, attn.num_heads,
                                        attn.head_dims).transpose(1, 2)
        values = values.to(v.dtype).reshape(batch, -1, attn.num_heads,
                                            attn.head_dims).transpose(1, 2)
        k = torch.cat([keys, k], dim=2)
        v = torch.cat([values, v], dim=2)
    dropout = attn.attn_drop if attn.training else 0.
    sdpa = getattr(attn, 'scaled_dot_product_attention',
                   F.scaled_dot_product_attention)
    out = sdpa(q, k, v, dropout_p=dropout)
    out = out.transpose(1, 2).reshape(batch, num, attn.embed_dims)
    out = attn.proj(out)
    out = attn.out_drop(attn.gamma1(attn.proj_drop(out)))
    if attn.v_shortcut:
        out = v.squeeze(1) + out
    return out


def encode_tokens_and_features(
    vit: VisionTransformer,
    x: Tensor,
    prefixes: Optional[Prefixes] = None,
    extra_tokens: Optional[Tensor] = None,
    out_layers: Sequence[int] = ()
) -> Tuple[Tensor, Dict[int, Tensor], Tuple[int, int]]:
    """Run an mmpretrain ``VisionTransformer`` with prompts, keeping the
    outputs of some layers.

    The same computation as ``VisionTransformer.forward`` (patch embedding,
    class token, position embedding, pre-norm, layers, final norm), plus:

    - ``extra_tokens`` appended at the end of the token sequence at the
      input of layer 0 (after the position embedding; they get none), so
      they flow through every block (e.g. the KDP / DeiT tokens);
    - ``prefixes[i]`` given to layer ``i``'s attention (see
      :func:`prefix_attention`); the other layers run unchanged;
    - the output tokens of every layer of ``out_layers`` (for feature
      distillation).

    Args:
        vit (VisionTransformer): The ViT (any arch).
        x (Tensor): Images, ``B x 3 x H x W``.
        prefixes (dict[int, tuple[Tensor, Tensor]], optional): Per-layer
            prefix keys and values. Defaults to None.
        extra_tokens (Tensor, optional): ``E x D`` or ``B x E x D`` tokens.
            Defaults to None.
        out_layers (Sequence[int]): Layers whose output tokens to return
            (0-based). Defaults to ``()``.

    Returns:
        tuple[Tensor, dict[int, Tensor], tuple[int, int]]: The output
        tokens after the final norm, ``B x (1 + HW + E) x D`` (class token
        first, the extra tokens last); ``{layer: B x (1 + HW + E) x D}``,
        the outputs of the blocks of ``out_layers`` (before the final
        norm); the patch grid ``(H, W)``.
    """
    prefixes = prefixes or {}
    out_layers = set(out_layers)
    beyond = sorted(i for i in out_layers if not 0 <= i < len(vit.layers))
    if beyond:
        raise ValueError(f'encode_tokens: out_layers {beyond} lie beyond the '
                         f'ViT depth {len(vit.layers)} (valid layers are '
                         f'0..{len(vit.layers) - 1})')
    batch = x.shape[0]
    x, patch_resolution = vit.patch_embed(x)
    if vit.cls_token is not None:
        x = torch.cat([vit.cls_token.expand(batch, -1, -1), x], dim=1)
    x = x + resize_pos_embed(
        vit.pos_embed,
        vit.patch_resolution,
        patch_resolution,
        mode=vit.interpolate_mode,
        num_extra_tokens=vit.num_extra_tokens)
    x = vit.drop_after_pos(x)
    x = vit.pre_norm(x)
    if extra_tokens is not None:
        if extra_tokens.dim() == 2:
            extra_tokens = extra_tokens.unsqueeze(0)
        x = torch.cat([x, extra_tokens.expand(batch, -1, -1).to(x.dtype)],
                      dim=1)
    features = {}
    for i, layer in enumerate(vit.layers):
        prefix = prefixes.get(i)
        if prefix is None:
            x = layer(x)
        else:
            # TransformerEncoderLayer.forward with a prefixed attention
            x = x + prefix_attention(layer.attn, layer.ln1(x), prefix)
            x = layer.ffn(layer.ln2(x), identity=x)
        if i in out_layers:
            features[i] = x
    if vit.final_norm:
        x = vit.ln1(x)
    return x, features, tuple(patch_resolution)


def encode_tokens(vit: VisionTransformer,
                  x: Tensor,
                  prefixes: Optional[Prefixes] = None,
                  extra_tokens: Optional[Tensor] = None) -> Tensor:
    """Run an mmpretrain ``VisionTransformer`` with prompts.

    :func:`encode_tokens_and_features` without layer outputs; the
    arguments are its own.

    Returns:
        Tensor: The output tokens after the final norm, ``B x (1 + HW + E)
        x D``: class token first, the extra tokens last.
    """
    return encode_tokens_and_features(vit, x, prefixes, extra_tokens)[0]


@MODELS.register_module()
class PromptedViT(VisionTransformer):
    """mmpretrain's ``VisionTransformer`` that also takes prompts.

    Same arguments, parameters and state dict as
    ``mmpretrain.VisionTransformer`` (so its checkpoints load unchanged),
    and the same :meth:`forward`; :meth:`forward_tokens` runs it with
    prefix prompts and extra tokens (see :func:`encode_tokens`). Any plain
    ``mmpretrain.VisionTransformer`` can be used the same way through
    :func:`encode_tokens`.

    Args:
        *args: ``mmpretrain.VisionTransformer``'s arguments (``arch`` as a
            name or as a dict with ``embed_dims``, ``num_layers``,
            ``num_heads``, ``feedforward_channels``; ``img_size``,
            ``patch_size``, ...).
        **kwargs: Keyword arguments of ``mmpretrain.VisionTransformer``.
    """

    def forward_tokens(self,
                       x: Tensor,
                       prefixes: Optional[Prefixes] = None,
                       extra_tokens: Optional[Tensor] = None) -> Tensor:
        """All output tokens with prompts (see :func:`encode_tokens`).

        Args:
            x (Tensor): Images, ``B x 3 x H x W``.
            prefixes (dict[int, tuple[Tensor, Tensor]], optional): Per-layer
                prefix keys and values. Defaults to None.
            extra_tokens (Tensor, optional): Tokens appended at the input
                of layer 0. Defaults to None.

        Returns:
            Tensor: ``B x (1 + HW + E) x D`` after the final norm.
        """
        return encode_tokens(self, x, prefixes, extra_tokens)
