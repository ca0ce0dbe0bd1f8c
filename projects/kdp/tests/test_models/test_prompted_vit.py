"""Prefix attention and the prompted ViT forward."""
import pytest
import torch
from kdp_tiny_models import ARCH, build, images, vit_cfg

from projects.kdp.kdp.models import (encode_tokens, merge_prefixes,
                                     prefix_attention, split_prefix)


def _qkv(attn, x):
    batch, num, _ = x.shape
    qkv = attn.qkv(x).reshape(batch, num, 3, attn.num_heads,
                              attn.head_dims).permute(2, 0, 3, 1, 4)
    return qkv[0], qkv[1], qkv[2]


def _heads(t, attn):
    return t.reshape(t.shape[0], -1, attn.num_heads,
                     attn.head_dims).transpose(1, 2)


def _by_hand(attn, x, pk, pv):
    """softmax(q [pk; k]^T / sqrt(d)) [pv; v], then the projection."""
    q, k, v = _qkv(attn, x)
    k = torch.cat([_heads(pk, attn), k], dim=2)
    v = torch.cat([_heads(pv, attn), v], dim=2)
    weights = torch.softmax(
        q @ k.transpose(-2, -1) * attn.head_dims**-0.5, dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
    return attn.proj(out)


@pytest.fixture
def vit():
    torch.manual_seed(0)
    model = build(vit_cfg())
    model.init_weights()
    model.eval()  # (mmpretrain's BaseBackbone.train returns None)
    return model


@pytest.mark.parametrize('vit_type',
                         ['PromptedViT', 'mmpretrain.VisionTransformer'])
def test_encode_tokens_without_prompts_is_the_plain_vit(vit_type):
    torch.manual_seed(0)
    model = build(vit_cfg(type=vit_type))
    model.init_weights()
    model.eval()
    x = images()
    tokens = encode_tokens(model, x)
    assert tokens.shape == (2, 1 + 64, ARCH['embed_dims'])
    torch.testing.assert_close(tokens[:, 0], model(x)[0])


def test_prefix_attention_matches_hand_written_softmax(vit):
    attn = vit.layers[1].attn
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 65, 32, generator=gen)
    pk = torch.randn(2, 5, 32, generator=gen)
    pv = torch.randn(2, 5, 32, generator=gen)
    out = prefix_attention(attn, x, (pk, pv))
    assert out.shape == x.shape  # queries unchanged: same token count
    torch.testing.assert_close(out, _by_hand(attn, x, pk, pv))


def test_zero_length_prefix_is_the_plain_attention(vit):
    """A prefix of 0 vectors adds no key: exactly mmpretrain's attention."""
    attn = vit.layers[0].attn
    x = torch.randn(2, 65, 32)
    empty = torch.zeros(2, 0, 32)
    torch.testing.assert_close(
        prefix_attention(attn, x, (empty, empty)), attn(x))
    torch.testing.assert_close(prefix_attention(attn, x, None), attn(x))


def test_zero_valued_prefix_dilutes_the_attention(vit):
    """Zero prefix keys are not "no prompt": each gets a logit q.0 = 0, so
    it takes exp(0) of the softmax mass, and its zero value adds nothing:

    out = sum_j exp(s_j) v_j / (sum_j exp(s_j) + P)  (before the projection)
    """
    attn = vit.layers[0].attn
    x = torch.randn(2, 65, 32)
    num_prefix = 3
    zeros = torch.zeros(2, num_prefix, 32)
    out = prefix_attention(attn, x, (zeros, zeros))
    q, k, v = _qkv(attn, x)
    scores = (q @ k.transpose(-2, -1) * attn.head_dims**-0.5).exp()
    mixed = (scores @ v) / (scores.sum(-1, keepdim=True) + num_prefix)
    expected = attn.proj(mixed.transpose(1, 2).reshape(2, 65, 32))
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, attn(x))


def test_prefix_enters_only_its_layer(vit):
    """With a prefix on layer 2 only: the attention outputs of layers 0, 1
    and the inputs of layers 0-2 equal the plain ViT's; layer 2's output
    (the input of layer 3) and the final tokens differ."""
    records = {}

    def hook(name):

        def fn(module, args, out):
            records.setdefault(name, []).append(
                (args[0].detach().clone(), out.detach().clone()))

        return fn

    handles = []
    for i, layer in enumerate(vit.layers):
        handles.append(layer.attn.register_forward_hook(hook(f'attn{i}')))
        handles.append(layer.ln1.register_forward_hook(hook(f'ln1_{i}')))
    x = images()
    plain = encode_tokens(vit, x)
    prefix = (torch.randn(2, 4, 32), torch.randn(2, 4, 32))
    prompted = encode_tokens(vit, x, {2: prefix})
    for h in handles:
        h.remove()
    for i in (0, 1):  # attention not prompted: same output
        (_, a_plain), (_, a_prompted) = records[f'attn{i}']
        torch.testing.assert_close(a_plain, a_prompted)
    # layer 2 ran the prefix attention, not attn.forward
    assert len(records['attn2']) == 1 and len(records['attn3']) == 2
    for i in (0, 1, 2):  # layer inputs equal up to layer 2
        (in_plain, _), (in_prompted, _) = records[f'ln1_{i}']
        torch.testing.assert_close(in_plain, in_prompted)
    (in_plain, _), (in_prompted, _) = records['ln1_3']
    assert not torch.allclose(in_plain, in_prompted)
    assert not torch.allclose(plain, prompted)
    # layer 2's output is the hand-written prefix attention's residual
    layer = vit.layers[2]
    (in2, _), _ = records['ln1_2']
    h = in2 + _by_hand(layer.attn, layer.ln1(in2), *prefix)
    torch.testing.assert_close(
        layer.ffn(layer.ln2(h), identity=h), in_prompted)


def test_extra_tokens_are_appended_and_flow(vit):
    x = images()
    token = torch.randn(1, 1, 32)
    out = encode_tokens(vit, x, extra_tokens=token)
    assert out.shape == (2, 66, 32)
    # the image tokens now attend to the extra token too
    assert not torch.allclose(out[:, 0], encode_tokens(vit, x)[:, 0])


def test_prefix_shape_errors(vit):
    attn = vit.layers[0].attn
    x = torch.randn(2, 65, 32)
    with pytest.raises(ValueError, match='B x P x D'):
        prefix_attention(attn, x,
                         (torch.zeros(2, 3, 16), torch.zeros(2, 3, 16)))


def test_split_and_merge_prefixes():
    prompts = torch.arange(2 * 3 * 4 * 1.).view(2, 3, 4, 1)  # B, N, L, D
    keys, values = split_prefix(prompts)
    assert keys.shape == values.shape == (2, 6, 1)
    torch.testing.assert_close(keys[0, :2, 0], torch.tensor([0., 1.]))
    torch.testing.assert_close(values[0, :2, 0], torch.tensor([2., 3.]))
    a = {1: (torch.zeros(2, 1, 4), torch.zeros(2, 1, 4))}
    b = {
        1: (torch.ones(2, 2, 4), torch.ones(2, 2, 4)),
        3: (torch.ones(2, 2, 4), torch.ones(2, 2, 4))
    }
    merged = merge_prefixes(a, None, b)
    assert sorted(merged) == [1, 3]
    assert merged[1][0].shape == (2, 3, 4)


def test_prompted_vit_state_dict_is_mmpretrain_s():
    ours = build(vit_cfg()).state_dict()
    theirs = build(vit_cfg(type='mmpretrain.VisionTransformer')).state_dict()
    assert list(ours) == list(theirs)
