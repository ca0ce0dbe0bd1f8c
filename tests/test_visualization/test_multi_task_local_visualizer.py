"""MultiTaskLocalVisualizer: the inference row and class boundaries."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from had_mm.visualization import MultiTaskLocalVisualizer


def _sample(**fields) -> SegDataSample:
    sample = SegDataSample()
    sample.set_data({k: PixelData(data=v) for k, v in fields.items()})
    return sample


def test_predictions_only_give_one_row_with_boundaries():
    seg = torch.zeros(1, 8, 10, dtype=torch.long)
    seg[:, :, 5:] = 3
    sample = _sample(
        pred_sem_seg=seg,
        pred_depth_map=torch.full((1, 8, 10), 2.0),
        pred_saliency=torch.rand(1, 8, 10))
    image = np.zeros((8, 10, 3), np.uint8)
    plain = MultiTaskLocalVisualizer.get_instance('vis_test_plain')
    grid = plain.draw_panels(image, sample)
    assert grid.shape == (8, 4 * 10 + 3 * 2, 3)  # image + 3 tasks, 1 row
    assert not grid[:, :10].any()  # the image as it is

    marked = MultiTaskLocalVisualizer.get_instance(
        'vis_test_boundaries', boundaries=True)
    grid = marked.draw_panels(image, sample)
    # class 0 | class 3 edge between columns 4 and 5: one pixel each side
    assert (grid[:, 4:6, :10] == 255).all()
    assert not grid[:, :4].any() and not grid[:, 6:10].any()
    sem = grid[:, 12:22]
    assert (sem[:, 4:6] == 255).all() and (sem[:, :4] != 255).any()


def test_labels_keep_two_rows():
    seg = torch.zeros(1, 8, 10, dtype=torch.long)
    sample = _sample(gt_sem_seg=seg, pred_sem_seg=seg)
    vis = MultiTaskLocalVisualizer.get_instance('vis_test_rows')
    grid = vis.draw_panels(np.zeros((8, 10, 3), np.uint8), sample)
    assert grid.shape == (2 * 8 + 2, 2 * 10 + 2, 3)
