import math

import numpy as np
import pytest
import torch

from had_mm.models.losses import MaskedL1Loss


def test_masked_l1_hand_value():
    pred = torch.tensor([[[[1., 2.], [3., 4.]]]], requires_grad=True)
    # valid: (0, 0) and (1, 1); 0 and NaN are invalid
    target = torch.tensor([[[[1.5, 0.], [float('nan'), 2.]]]])
    loss = MaskedL1Loss(loss_weight=2.0)(pred, target)
    # (|1 - 1.5| + |4 - 2|) / 2 * 2
    assert loss.item() == pytest.approx(2.5)
    loss.backward()
    expected_grad = [[[[-1., 0.], [0., 1.]]]]  # 2 * sign / 2
    assert torch.equal(pred.grad, torch.tensor(expected_grad))


def test_masked_l1_random_against_loop():
    gen = torch.Generator().manual_seed(0)
    pred = torch.rand(2, 1, 4, 4, generator=gen) * 5
    target = torch.rand(2, 1, 4, 4, generator=gen) * 5
    target[0, 0, 0, :2] = 0
    target[1, 0, 3, 3] = float('inf')
    target[1, 0, 2, 1] = -1.  # negative depth is invalid too
    total, count = 0.0, 0
    for idx in np.ndindex(2, 1, 4, 4):
        t = float(target[idx])
        if math.isfinite(t) and t > 0:
            total += abs(float(pred[idx]) - t)
            count += 1
    loss = MaskedL1Loss()(pred, target)
    assert loss.item() == pytest.approx(total / count, rel=1e-6)
    # B x H x W targets are accepted as well
    loss2 = MaskedL1Loss()(pred, target[:, 0])
    assert loss2.item() == pytest.approx(total / count, rel=1e-6)


def test_masked_l1_all_invalid_is_zero():
    pred = torch.rand(2, 1, 3, 3, requires_grad=True)
    target = torch.zeros(2, 1, 3, 3)
    target[0, 0, 0, 0] = float('nan')
    loss = MaskedL1Loss()(pred, target, ignore_index=255)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_masked_l1_loss_name():
    assert MaskedL1Loss().loss_name == 'loss_depth'
    assert MaskedL1Loss(loss_name='loss_d').loss_name == 'loss_d'
