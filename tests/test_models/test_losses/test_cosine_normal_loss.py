import math

import numpy as np
import pytest
import torch

from had_mm.models.losses import CosineNormalLoss


def _to_image(vectors):
    """List of W 3-vectors -> 1 x 3 x 1 x W tensor."""
    return torch.tensor(vectors, dtype=torch.float32).t().reshape(1, 3, 1, -1)


def test_cosine_normal_hand_value():
    pred = _to_image([[1, 0, 0], [0, 2, 0], [0, 0, 1]]).requires_grad_()
    # third target is the zero vector: invalid
    target = _to_image([[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    loss = CosineNormalLoss()(pred, target)
    # cosines 1 and 1 / sqrt(2), mean over the 2 valid pixels
    expected = 1 - (1 + 1 / math.sqrt(2)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert torch.equal(pred.grad[..., 2], torch.zeros(1, 3, 1))


def test_cosine_normal_random_against_loop():
    gen = torch.Generator().manual_seed(1)
    pred = torch.randn(2, 3, 4, 4, generator=gen)
    target = torch.randn(2, 3, 4, 4, generator=gen)
    target[0, :, 1, 1] = 0
    target[1, 2, 0, 3] = float('nan')
    total, count = 0.0, 0
    for b, i, j in np.ndindex(2, 4, 4):
        p = [float(v) for v in pred[b, :, i, j]]
        t = [float(v) for v in target[b, :, i, j]]
        if not all(math.isfinite(v) for v in t) or not any(t):
            continue
        pn = math.sqrt(sum(v * v for v in p))
        tn = math.sqrt(sum(v * v for v in t))
        total += 1 - sum(a * c for a, c in zip(p, t)) / pn / tn
        count += 1
    assert count == 30
    loss = CosineNormalLoss(loss_weight=0.5)(pred, target)
    assert loss.item() == pytest.approx(0.5 * total / count, rel=1e-5)


def test_cosine_normal_all_invalid_is_zero():
    pred = torch.randn(1, 3, 2, 2, requires_grad=True)
    target = torch.zeros(1, 3, 2, 2)
    loss = CosineNormalLoss()(pred, target)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(pred.grad).all()


def test_cosine_normal_loss_name():
    assert CosineNormalLoss().loss_name == 'loss_normal'
