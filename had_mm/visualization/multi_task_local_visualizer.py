from typing import List, Optional, Tuple

import mmcv
import numpy as np
from matplotlib import colormaps
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer
from skimage.segmentation import find_boundaries

from had_mm.registry import VISUALIZERS
from had_mm.tasks import get_task, task_names


def _panels() -> List[Tuple[str, str, str]]:
    """(task, ground-truth field, prediction field) per task, in panel
    order (the task table's)."""
    return [(t, get_task(t).label_field, get_task(t).pred_field)
            for t in task_names()]


@VISUALIZERS.register_module()
class MultiTaskLocalVisualizer(SegLocalVisualizer):
    """Draws an image with one panel per task: labels on top, predictions
    below (colour semantic map, depth colour map, normal RGB, saliency).

    Used by mmseg's ``SegVisualizationHook`` (``tools/test.py --show-dir``)
    and by :class:`~had_mm.apis.MultiTaskInferencer`. Invalid label pixels
    are black. A sample without any label (inference) gives one row: the
    image and the predictions.

    Args:
        name (str): The instance name (mmengine's ManagerMixin).
        depth_cmap (str): Matplotlib colour map for depth.
        boundaries (bool): Draw the class boundaries (white) on the semantic
            panels and on the image (from the predicted classes, else the
            labelled ones). Defaults to False.
        **kwargs: See ``SegLocalVisualizer``.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 depth_cmap: str = 'magma_r',
                 boundaries: bool = False,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.depth_cmap = colormaps[depth_cmap]
        self.boundaries = boundaries

    def _semantic(self, seg: np.ndarray) -> np.ndarray:
        palette = np.array(
            self.dataset_meta.get('palette')
            or [[(37 * i) % 256, (97 * i) % 256, (151 * i) % 256]
                for i in range(256)],
            dtype=np.uint8)
        out = np.zeros(seg.shape + (3, ), np.uint8)
        known = seg < len(palette)
        out[known] = palette[seg[known]]
        if self.boundaries:
            out[find_boundaries(seg, mode='inner', background=-1)] = 255
        return out

    def _depth(self, depth: np.ndarray, vmax: float) -> np.ndarray:
        rgb = self.depth_cmap(np.clip(depth / max(vmax, 1e-6), 0, 1))[..., :3]
        out = (rgb * 255).astype(np.uint8)
        out[~(depth > 0)] = 0
        return out

    @staticmethod
    def _normal(normal: np.ndarray) -> np.ndarray:
        normal = normal.transpose(1, 2, 0)
        out = ((normal + 1) / 2 * 255).clip(0, 255).astype(np.uint8)
        out[np.all(normal == 0, axis=-1)] = 0
        return out

    @staticmethod
    def _saliency(sal: np.ndarray) -> np.ndarray:
        gray = (np.clip(sal.astype(np.float32), 0, 1) * 255).astype(np.uint8)
        out = np.repeat(gray[..., None], 3, axis=-1)
        out[sal == 255] = 0
        return out

    def draw_panels(self, image: np.ndarray,
                    data_sample: SegDataSample) -> np.ndarray:
        """Return the RGB grid for one sample.

        Args:
            image (np.ndarray): ``HxWx3`` RGB image.
            data_sample (SegDataSample): Labels and / or predictions.

        Returns:
            np.ndarray: 2 rows (labels, predictions) x (1 + tasks) panels;
            1 row (image, predictions) for a sample without labels.
        """
        h, w = image.shape[:2]
        if self.boundaries:
            image = self._image_with_boundaries(image, data_sample)
        top: List[np.ndarray] = [image]
        bottom: List[np.ndarray] = [np.full_like(image, 255)]
        panels = _panels()
        # one colour scale for the depth label and prediction
        vmax = None
        for task, gt_key, _ in panels:
            if get_task(task).distill_kind == 'regression' and \
                    gt_key in data_sample:
                vmax = float(getattr(data_sample, gt_key).data.max())
                break
        for task, gt_key, pred_key in panels:
            if gt_key not in data_sample and pred_key not in data_sample:
                continue
            for key, row in ((gt_key, top), (pred_key, bottom)):
                if key not in data_sample:
                    row.append(np.zeros((h, w, 3), np.uint8))
                    continue
                data = getattr(data_sample, key).data.cpu().numpy()
                # how a task is drawn follows its kind of output
                kind = get_task(task).distill_kind
                if kind == 'classification':
                    panel = self._semantic(data[0].astype(np.int64))
                elif kind == 'regression':
                    vmax = vmax or float(data.max())
                    panel = self._depth(data[0], vmax)
                elif kind == 'normal':
                    panel = self._normal(data)
                else:
                    panel = self._saliency(data[0])
                if panel.shape[:2] != (h, w):
                    panel = mmcv.imresize(
                        panel, (w, h), interpolation='nearest')
                row.append(panel)
        gap = np.full((h, 2, 3), 255, np.uint8)

        def join(row):
            return np.concatenate(
                [x for p in row for x in (p, gap)][:-1], axis=1)

        if not any(gt_key in data_sample for _, gt_key, _ in panels):
            # inference: no label row, the predictions beside the image
            return join([image] + bottom[1:])
        return np.concatenate([
            join(top),
            np.full((2, join(top).shape[1], 3), 255, np.uint8),
            join(bottom)
        ],
                              axis=0)

    @staticmethod
    def _image_with_boundaries(image: np.ndarray,
                               data_sample: SegDataSample) -> np.ndarray:
        """The image with the semantic class boundaries marked in white."""
        for key in ('pred_sem_seg', 'gt_sem_seg'):
            if key in data_sample:
                seg = getattr(data_sample, key).data.cpu().numpy()[0]
                if seg.shape != image.shape[:2]:
                    break
                image = image.copy()
                image[find_boundaries(seg, mode='inner', background=-1)] = 255
                break
        return image

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       **kwargs) -> None:
        grid = image if data_sample is None else self.draw_panels(
            image, data_sample)
        self.set_image(grid)
        if show:
            self.show(grid, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(grid), out_file)
        else:
            self.add_image(name, grid, step)
