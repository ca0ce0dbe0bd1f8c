"""unit_normalize keeps F.normalize's value, eps semantics and gradient."""
import pytest
import torch
import torch.nn.functional as F

from had_mm.tasks.unit_vectors import inverse_norm, unit_cosine, unit_normalize


def _normals(dtype, zero_pixels=True):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 7, generator=gen, dtype=torch.float64)
    if zero_pixels:
        x[0, :, 1, 2] = 0  # a zero vector (invalid pixel)
        x[1, :, 4, 6] = 0
    return x.to(dtype)


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('eps', [1e-12, 1e-6])
def test_value_equals_f_normalize(dtype, eps):
    x = _normals(dtype)
    torch.testing.assert_close(
        unit_normalize(x, eps=eps), F.normalize(x, dim=1, eps=eps))


@pytest.mark.parametrize('dim', [0, 1, -1])
def test_other_dims(dim):
    x = _normals(torch.float64)
    torch.testing.assert_close(
        unit_normalize(x, dim=dim), F.normalize(x, dim=dim))


@pytest.mark.parametrize('dtype',
                         [torch.float64, torch.float32, torch.bfloat16])
def test_zero_vector_stays_zero_with_a_finite_gradient(dtype):
    x = torch.zeros(1, 3, 2, 2, dtype=dtype, requires_grad=True)
    out = unit_normalize(x)
    assert out.dtype == dtype
    assert torch.equal(out, torch.zeros_like(out))
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_gradient_equals_f_normalize(dtype):
    # also at zero vectors, where both gradients are 1 / eps
    eps = 1e-6
    x = _normals(dtype)
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    w = w.to(dtype)
    grads = []
    for fn in (unit_normalize, lambda v, eps: F.normalize(v, dim=1, eps=eps)):
        leaf = x.clone().requires_grad_(True)
        (fn(leaf, eps=eps) * w).sum().backward()
        grads.append(leaf.grad)
    ours, ref = grads
    valid = x.abs().sum(1, keepdim=True).expand_as(x) > 0
    torch.testing.assert_close(ours[valid], ref[valid], rtol=1e-6, atol=1e-6)
    # the zero vectors' gradients are huge (1 / eps) and equal relatively
    torch.testing.assert_close(ours[~valid], ref[~valid], rtol=1e-6, atol=0)


def test_double_precision_gradcheck():
    x = _normals(torch.float64, zero_pixels=False).requires_grad_(True)
    assert torch.autograd.gradcheck(unit_normalize, (x, ))


def test_float16_zero_vector_and_large_values():
    # float16: eps ** 2 underflows and x * x overflows above 256, so the
    # helper works in float32 and casts back
    x = torch.zeros(1, 3, 1, 2, dtype=torch.float16)
    x[0, :, 0, 1] = 300.0
    out = unit_normalize(x, eps=1e-6)
    assert out.dtype == torch.float16
    assert torch.equal(out[0, :, 0, 0], torch.zeros(3, dtype=torch.float16))
    torch.testing.assert_close(
        out[0, :, 0, 1].float(),
        torch.full((3, ), 3**-0.5),
        rtol=1e-3,
        atol=1e-3)


def _f_cosine(a, b, eps=1e-12):
    return (F.normalize(a, dim=1, eps=eps) *
            F.normalize(b, dim=1, eps=eps)).sum(1)


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_unit_cosine_value_and_gradients_equal_f_normalize(dtype):
    a = _normals(dtype)
    b = _normals(dtype, zero_pixels=False).flip(0) * 3.0
    b[0, :, 0, 0] = 0  # a zero target: cosine 0
    outs, grads = [], []
    for fn in (unit_cosine, _f_cosine):
        leaf_a = a.clone().requires_grad_(True)
        leaf_b = b.clone().requires_grad_(True)
        out = fn(leaf_a, leaf_b)
        (out * torch.linspace(-1, 2, out.numel()).reshape(
            out.shape).to(dtype)).sum().backward()
        outs.append(out.detach())
        grads.append((leaf_a.grad, leaf_b.grad))
    assert outs[0].shape == (2, 5, 7)
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-6, atol=1e-6)
    assert outs[0][0, 0, 0] == 0 and outs[0][0, 1, 2] == 0
    for ours, ref in zip(*grads):
        valid = (a.abs().sum(1, keepdim=True) > 0) & (
            b.abs().sum(1, keepdim=True) > 0)
        valid = valid.expand_as(ours)
        torch.testing.assert_close(
            ours[valid], ref[valid], rtol=1e-6, atol=1e-6)
        assert torch.isfinite(ours).all()


def test_unit_cosine_half_inputs_give_float32():
    a = torch.zeros(1, 3, 1, 2, dtype=torch.bfloat16)
    a[0, :, 0, 1] = 1
    out = unit_cosine(a, a)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([[[0.0, 1.0]]]))


def test_inverse_norm_and_the_channel_mean_of_a_unit_vector():
    x = _normals(torch.float64)
    inv = inverse_norm(x)
    assert inv.shape == (2, 5, 7)
    valid = x.abs().sum(1) > 0
    torch.testing.assert_close(inv[valid], 1 / x.norm(dim=1)[valid])
    assert torch.all(inv[~valid] == 1e12)  # 1 / eps
    torch.testing.assert_close(
        x.sum(1) * inv / 3,
        F.normalize(x, dim=1).mean(1))
