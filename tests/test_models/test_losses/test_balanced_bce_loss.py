import math

import numpy as np
import pytest
import torch

from had_mm.models.losses import BalancedBCELoss


def _bce(z, y):
    return math.log1p(math.exp(-abs(z))) + max(z, 0.0) - y * z


def test_balanced_bce_hand_value():
    pred = torch.zeros(1, 1, 1, 4)
    target = torch.tensor([[[[1, 0, 0, 255]]]])
    loss = BalancedBCELoss()(pred, target)
    # 1 positive, 2 negatives, every bce = log 2:
    # (2/3 * log2 + 1/3 * 2 log2) / 3
    assert loss.item() == pytest.approx(4 / 9 * math.log(2), rel=1e-6)


def test_balanced_bce_random_against_loop():
    gen = torch.Generator().manual_seed(2)
    pred = torch.randn(2, 1, 4, 4, generator=gen) * 3
    target = (torch.rand(2, 1, 4, 4, generator=gen) > 0.7).float()
    target[1, 0, 0] = 255
    pos_terms, neg_terms = [], []
    for idx in np.ndindex(2, 1, 4, 4):
        y = float(target[idx])
        if y == 255:
            continue
        (pos_terms if y == 1 else neg_terms).append(_bce(float(pred[idx]), y))
    num_valid = len(pos_terms) + len(neg_terms)
    expected = (len(neg_terms) / num_valid * sum(pos_terms) +
                len(pos_terms) / num_valid * sum(neg_terms)) / num_valid
    loss = BalancedBCELoss(loss_weight=3.0)(pred, target.long())
    assert loss.item() == pytest.approx(3 * expected, rel=1e-5)
    # B x H x W float target gives the same
    loss2 = BalancedBCELoss(loss_weight=3.0)(pred, target[:, 0])
    assert loss2.item() == pytest.approx(3 * expected, rel=1e-5)


def test_balanced_bce_degenerate_batches():
    pred = torch.randn(1, 1, 3, 3, requires_grad=True)
    ignored = BalancedBCELoss()(pred, torch.full((1, 1, 3, 3), 255))
    assert ignored.item() == 0.0
    # one class only: its weight (fraction of the other class) is 0
    all_pos = BalancedBCELoss()(pred, torch.ones(1, 1, 3, 3))
    assert all_pos.item() == 0.0
    (ignored + all_pos).backward()
    assert torch.isfinite(pred.grad).all()


def test_balanced_bce_loss_name():
    assert BalancedBCELoss().loss_name == 'loss_saliency'
