"""``resize_map``: the one resize of dense maps, equal to F.interpolate."""
import pytest
import torch
import torch.nn.functional as F

from had_mm.models.utils import resize_map


@pytest.mark.parametrize('align_corners', [False, True])
def test_bilinear_equals_interpolate(align_corners):
    x = torch.randn(2, 3, 5, 7)
    out = resize_map(x, (9, 13), 'bilinear', align_corners)
    ref = F.interpolate(
        x, size=(9, 13), mode='bilinear', align_corners=align_corners)
    assert torch.equal(out, ref)


def test_label_maps_stay_integer_and_exact():
    gt = torch.tensor([[[0, 1], [2, 255]]])  # B x H x W, long
    out = resize_map(gt, (4, 4), 'nearest')
    assert out.dtype == torch.long and out.shape == (1, 4, 4)
    assert torch.equal(out[0],
                       gt[0].repeat_interleave(2, 0).repeat_interleave(2, 1))


def test_same_size_is_the_same_object():
    x = torch.randn(1, 2, 4, 4)
    assert resize_map(x, (4, 4)) is x
    assert resize_map(x, torch.Size([4, 4]), 'nearest') is x


def test_dtype_interpolates_in_float32():
    x = torch.randn(1, 1, 3, 3).to(torch.bfloat16)
    out = resize_map(x, (6, 6), 'bilinear', dtype=torch.float32)
    ref = F.interpolate(
        x.float(), size=(6, 6), mode='bilinear', align_corners=False)
    assert out.dtype == torch.float32 and torch.equal(out, ref)
    assert resize_map(x, (6, 6)).dtype == torch.bfloat16
