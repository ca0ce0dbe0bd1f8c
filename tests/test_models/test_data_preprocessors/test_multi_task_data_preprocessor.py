import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from had_mm.models.data_preprocessors import MultiTaskDataPreProcessor


def _sample(h, w):
    s = SegDataSample()
    s.gt_sem_seg = PixelData(data=torch.zeros(1, h, w, dtype=torch.long))
    s.gt_depth_map = PixelData(data=torch.ones(1, h, w))
    s.set_data(dict(gt_normal=PixelData(data=torch.ones(3, h, w))))
    s.set_data(
        dict(
            gt_saliency=PixelData(data=torch.ones(1, h, w, dtype=torch.long))))
    return s


def test_every_label_is_padded_with_its_invalid_value():
    pre = MultiTaskDataPreProcessor(
        mean=[0, 0, 0], std=[1, 1, 1], bgr_to_rgb=True, size_divisor=8)
    img = torch.arange(3 * 5 * 6, dtype=torch.uint8).view(3, 5, 6)
    out = pre(
        dict(
            inputs=[img, img[:, :4, :4]],
            data_samples=[_sample(5, 6), _sample(4, 4)]),
        training=True)
    assert out['inputs'].shape == (2, 3, 8, 8)
    # BGR -> RGB swap
    torch.testing.assert_close(out['inputs'][0, 0, :5, :6], img[2].float())
    s = out['data_samples'][1]
    assert s.metainfo['img_shape'] == (4, 4)
    assert s.metainfo['batch_input_shape'] == (8, 8)
    assert (s.gt_sem_seg.data[:, 4:] == 255).all()
    assert (s.gt_depth_map.data[:, :, 4:] == 0).all()  # invalid, not 255 m
    assert (s.gt_normal.data[:, 4:] == 0).all()
    assert (s.gt_saliency.data[:, 4:] == 255).all()
    assert (s.gt_depth_map.data[:, :4, :4] == 1).all()
