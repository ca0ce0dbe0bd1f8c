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


def test_labels_only_give_one_row():
    """A data set's labels (browse_dataset): no blank prediction row."""
    seg = torch.zeros(1, 8, 10, dtype=torch.long)
    sample = _sample(gt_sem_seg=seg, gt_depth_map=torch.ones(1, 8, 10))
    vis = MultiTaskLocalVisualizer.get_instance('vis_test_labels_only')
    grid = vis.draw_panels(np.zeros((8, 10, 3), np.uint8), sample)
    assert grid.shape == (8, 3 * 10 + 2 * 2, 3)


def _four_task_sample() -> SegDataSample:
    seg = torch.zeros(1, 8, 10, dtype=torch.long)
    seg[:, :, 5:] = 2
    seg[:, 0] = 255  # ignored: neither drawn in colour nor in the key
    normal = torch.zeros(3, 8, 10)
    normal[2] = 1.0
    return _sample(
        gt_sem_seg=seg,
        pred_sem_seg=torch.full((1, 8, 10), 3),
        gt_depth_map=torch.full((1, 8, 10), 4.0),
        pred_depth_map=torch.full((1, 8, 10), 2.0),
        gt_normal=normal,
        pred_normal=normal,
        pred_saliency=torch.rand(1, 8, 10))


def test_labelled_picture_names_every_panel_and_key():
    vis = MultiTaskLocalVisualizer.get_instance('vis_test_labelled')
    vis.dataset_meta = dict(classes=['wall', 'floor', 'bed', 'chair'])
    sample = _four_task_sample()
    image = np.zeros((8, 10, 3), np.uint8)
    fig = vis.labelled_figure(image, sample)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ['image', 'semantic', 'depth', 'normal', 'saliency']
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == ['label', 'prediction']
    bars = [inset for ax in fig.axes for inset in ax.child_axes]
    # depth in its task's unit, on the label's scale (max 4 m)
    assert [ax.get_xlabel() for ax in bars] == ['depth (m)', 'saliency']
    depth_bar = bars[0]
    assert depth_bar.get_xlim() == (0.0, 4.0)
    legends = {
        ax.get_legend().get_title().get_text():
        [t.get_text() for t in ax.get_legend().get_texts()]
        for ax in fig.axes if ax.get_legend()
    }
    # the classes of label and prediction, by name; 255 is not a class
    assert legends['semantic: classes drawn'] == ['wall', 'bed', 'chair']
    assert legends['normal: RGB = (n + 1) / 2'] == [
        '+x', '-x', '+y', '-y', '+z', '-z'
    ]
    picture = vis.draw_labelled(image, sample)
    assert picture.dtype == np.uint8 and picture.shape[2] == 3
    assert picture.shape[0] > 2 * 8 and picture.shape[1] > 5 * 10


def test_ignored_pixels_are_black_and_no_class_is():
    vis = MultiTaskLocalVisualizer.get_instance('vis_test_black')
    seg = np.array([[0, 1, 255]])
    panel = vis._semantic(seg)
    assert not panel[0, 2].any()
    assert panel[0, 0].any() and panel[0, 1].any()
