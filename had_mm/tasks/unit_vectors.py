"""Unit-normalisation of surface normals at the speed of a sum."""
import torch
from torch import Tensor


def unit_normalize(x: Tensor, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``F.normalize(x, p=2, dim=dim, eps=eps)``, computed as a sum.

    ``x / max(||x||, eps)``, with the norm taken as
    ``sqrt(max(sum(x * x), eps ** 2))``: the same value and, wherever
    ``||x|| > eps``, the same gradient as ``F.normalize``; a zero vector
    stays zero (with a finite gradient, as the clamp comes before the
    square root). Why: on CPU builds of torch 2.14 ``linalg_vector_norm``
    over the channel dimension of a ``B x 3 x H x W`` map is about 100x
    slower than this sum, and normals are normalised in the head, the
    pseudo-labels, the loss maps and the predictor.

    Half inputs (float16 / bfloat16) are normalised in float32 and cast
    back: in float16 ``eps ** 2`` underflows to 0 (a zero vector would
    give NaN) and ``x * x`` overflows above 256.

    Args:
        x (Tensor): Input, any shape.
        dim (int): Dimension to normalise over. Defaults to 1.
        eps (float): Lower bound of the norm. Defaults to 1e-12.

    Returns:
        Tensor: ``x`` scaled to unit norm along ``dim``, in ``x``'s dtype.
    """
    if x.dtype in (torch.float16, torch.bfloat16):
        return unit_normalize(x.float(), dim, eps).to(x.dtype)
    sq = (x * x).sum(dim=dim, keepdim=True)
    return x / sq.clamp(min=eps * eps).sqrt()


def unit_cosine(a: Tensor,
                b: Tensor,
                dim: int = 1,
                eps: float = 1e-12) -> Tensor:
    """``(unit_normalize(a) * unit_normalize(b)).sum(dim)`` from sums.

    ``<a, b> / (max(||a||, eps) * max(||b||, eps))``: the same value and
    gradient, without materialising (and back-propagating through) two
    unit-vector maps; only three channel sums are taken, then the work is
    on one-channel maps. A zero vector gives a cosine of 0. The norms are
    inverted separately, as ``eps ** 4`` underflows float32.

    Args:
        a (Tensor): First input.
        b (Tensor): Second input, broadcastable with ``a``.
        dim (int): Dimension of the vectors. Defaults to 1.
        eps (float): Lower bound of each norm. Defaults to 1e-12.

    Returns:
        Tensor: The cosine, with ``dim`` removed; float32 for half inputs.
    """
    if a.dtype in (torch.float16, torch.bfloat16):
        a = a.float()
    if b.dtype in (torch.float16, torch.bfloat16):
        b = b.float()
    dot = (a * b).sum(dim=dim)
    return dot * inverse_norm(a, dim, eps) * inverse_norm(b, dim, eps)


def inverse_norm(x: Tensor, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``1 / max(||x||, eps)`` along ``dim`` (removed), from a sum.

    For quantities of a unit vector that need no normalised map, e.g. its
    channel mean ``x.sum(dim) * inverse_norm(x, dim) / C``.

    Args:
        x (Tensor): Input (float32 or wider: half inputs are not upcast).
        dim (int): Dimension of the vectors. Defaults to 1.
        eps (float): Lower bound of the norm. Defaults to 1e-12.

    Returns:
        Tensor: The inverse norms.
    """
    return (x * x).sum(dim=dim).clamp(min=eps * eps).rsqrt()
