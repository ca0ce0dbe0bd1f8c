from typing import List, Optional, Tuple

import mmcv
import numpy as np
from matplotlib import colormaps
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer
from skimage.segmentation import find_boundaries

from had_mm.registry import VISUALIZERS
from had_mm.tasks import PSEUDO_IGNORE_INDEX, get_task, task_names


def _panels() -> List[Tuple[str, str, str]]:
    """(task, ground-truth field, prediction field) per task, in panel
    order (the task table's)."""
    return [(t, get_task(t).label_field, get_task(t).pred_field)
            for t in task_names()]


#: (task, label panel, prediction panel, colour scale top) of one task
TaskPanels = Tuple[str, Optional[np.ndarray], Optional[np.ndarray], float]


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
        labelled (bool): Write pictures with task names and keys
            (:meth:`draw_labelled`); False writes the bare grid of
            :meth:`draw_panels`, at the image's resolution. Defaults to True.
        **kwargs: See ``SegLocalVisualizer``.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 depth_cmap: str = 'magma_r',
                 boundaries: bool = False,
                 labelled: bool = True,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.depth_cmap = colormaps[depth_cmap]
        self.boundaries = boundaries
        self.labelled = labelled

    def _palette(self) -> np.ndarray:
        """``N x 3`` uint8 class colours: the data set's, else generated
        (offset so that no class is black, the colour of invalid pixels)."""
        palette = self.dataset_meta.get('palette')
        if not palette:
            i = np.arange(256)
            palette = np.stack([37 * i + 50, 97 * i + 100, 151 * i + 150],
                               axis=1) % 256
        return np.array(palette, dtype=np.uint8)

    def _semantic(self, seg: np.ndarray) -> np.ndarray:
        palette = self._palette()
        out = np.zeros(seg.shape + (3, ), np.uint8)
        known = (seg < len(palette)) & (seg != PSEUDO_IGNORE_INDEX)
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

    def _task_panels(self, image: np.ndarray,
                     data_sample: SegDataSample) -> List[TaskPanels]:
        """(task, label panel, prediction panel, depth scale) of every task
        the sample holds; a panel is None where the field is absent."""
        h, w = image.shape[:2]
        panels = _panels()
        # one colour scale for the label and prediction of a regression
        vmax = None
        for task, gt_key, _ in panels:
            if get_task(task).distill_kind == 'regression' and \
                    gt_key in data_sample:
                vmax = float(getattr(data_sample, gt_key).data.max())
                break
        out = []
        for task, gt_key, pred_key in panels:
            if gt_key not in data_sample and pred_key not in data_sample:
                continue
            pair = []
            for key in (gt_key, pred_key):
                if key not in data_sample:
                    pair.append(None)
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
                pair.append(panel)
            out.append((task, pair[0], pair[1], vmax or 1.0))
        return out

    def draw_panels(self, image: np.ndarray,
                    data_sample: SegDataSample) -> np.ndarray:
        """Return the bare RGB grid for one sample (no text, no keys).

        Args:
            image (np.ndarray): ``HxWx3`` RGB image.
            data_sample (SegDataSample): Labels and / or predictions.

        Returns:
            np.ndarray: 2 rows (labels, predictions) x (1 + tasks) panels;
            1 row (image, labels or predictions) for a sample with only
            one of them. A missing field's panel is black.
        """
        h, w = image.shape[:2]
        if self.boundaries:
            image = self._image_with_boundaries(image, data_sample)
        tasks = self._task_panels(image, data_sample)
        black = np.zeros((h, w, 3), np.uint8)
        top, bottom = [image], [np.full_like(image, 255)]
        for _, gt, pred, _ in tasks:
            top.append(black if gt is None else gt)
            bottom.append(black if pred is None else pred)
        gap = np.full((h, 2, 3), 255, np.uint8)

        def join(row):
            return np.concatenate(
                [x for p in row for x in (p, gap)][:-1], axis=1)

        has_gt = any(gt is not None for _, gt, _, _ in tasks)
        has_pred = any(pred is not None for _, _, pred, _ in tasks)
        if not has_gt:  # inference: the predictions beside the image
            return join([image] + bottom[1:])
        if not has_pred:  # a data set's labels
            return join(top)
        return np.concatenate([
            join(top),
            np.full((2, join(top).shape[1], 3), 255, np.uint8),
            join(bottom)
        ],
                              axis=0)

    def draw_labelled(self, image: np.ndarray,
                      data_sample: SegDataSample) -> np.ndarray:
        """Return the panels with their names and keys, as an RGB array.

        Each column is headed by its task's name and each row by what it
        shows (label, prediction). Under each task is its key: the classes
        drawn (semantic), a colour bar in the task's unit (depth, in
        metres), the colours of the six axis directions (normals), a 0-1
        colour bar (saliency).

        Args:
            image (np.ndarray): ``HxWx3`` RGB image.
            data_sample (SegDataSample): Labels and / or predictions.

        Returns:
            np.ndarray: The ``H' x W' x 3`` uint8 picture.
        """
        fig = self.labelled_figure(image, data_sample)
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()

    def labelled_figure(self, image: np.ndarray, data_sample: SegDataSample):
        """The matplotlib ``Figure`` that :meth:`draw_labelled` renders.

        Args:
            image (np.ndarray): ``HxWx3`` RGB image.
            data_sample (SegDataSample): Labels and / or predictions.

        Returns:
            matplotlib.figure.Figure: One axes per panel, a key row below.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        h, w = image.shape[:2]
        if self.boundaries:
            image = self._image_with_boundaries(image, data_sample)
        tasks = self._task_panels(image, data_sample)
        rows = [(name, i) for i, name in ((1, 'label'), (2, 'prediction'))
                if any(t[i] is not None for t in tasks)] or [('image', 0)]
        n_cols = 1 + len(tasks)
        side = 2.2  # inches of a panel's width
        fig = Figure(
            figsize=(side * n_cols, side * h / w * len(rows) + 1.3),
            dpi=100,
            layout='constrained')
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(
            len(rows) + 1,
            n_cols,
            height_ratios=[side * h / w] * len(rows) + [1.1])
        titled = set()
        for r, (row_name, i) in enumerate(rows):
            columns = [('image', image if r == 0 else None)]
            columns += [(t[0], t[i] if i else None) for t in tasks]
            for c, (title, panel) in enumerate(columns):
                ax = fig.add_subplot(grid[r, c])
                ax.set_xticks([])
                ax.set_yticks([])
                if panel is None:
                    ax.set_axis_off()
                    continue
                ax.imshow(panel, interpolation='nearest')
                if c not in titled:  # the column's top panel names it
                    ax.set_title(title, fontsize=10)
                    titled.add(c)
                if c == 0 or r > 0 and c == 1:
                    ax.set_ylabel(row_name, fontsize=9)
        for c, (task, _, _, vmax) in enumerate(tasks, start=1):
            self._draw_key(fig, fig.add_subplot(grid[-1, c]), task, vmax,
                           data_sample)
        fig.add_subplot(grid[-1, 0]).set_axis_off()
        return fig

    def _draw_key(self, fig, ax, task: str, vmax: float,
                  data_sample: SegDataSample) -> None:
        """Draw ``task``'s key into the key-row axes ``ax``."""
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        from matplotlib.patches import Patch

        ax.set_axis_off()
        spec = get_task(task)
        kind = spec.distill_kind
        if kind in ('regression', 'binary'):
            top = vmax if kind == 'regression' else 1.0
            cmap = self.depth_cmap if kind == 'regression' else colormaps[
                'gray']
            unit = f' ({spec.unit})' if spec.unit else ''
            bar = fig.colorbar(
                ScalarMappable(Normalize(0, top), cmap),
                cax=ax.inset_axes([0.05, 0.72, 0.9, 0.16]),
                orientation='horizontal')
            bar.set_label(f'{task}{unit}', fontsize=8)
            bar.ax.tick_params(labelsize=7)
            return
        if kind == 'classification':
            seg = [
                getattr(data_sample, key).data.cpu().numpy()
                for key in (spec.label_field, spec.pred_field)
                if key in data_sample
            ]
            ids = np.unique(np.concatenate([s.ravel() for s in seg]))
            names = self.dataset_meta.get('classes') or []
            palette = self._palette()
            handles = [
                Patch(
                    color=palette[i] / 255,
                    label=names[i] if i < len(names) else f'class {i}')
                for i in ids.astype(np.int64).tolist()
                if 0 <= i < len(palette) and i != PSEUDO_IGNORE_INDEX
            ]
        else:  # unit normals: RGB = (n + 1) / 2 per axis
            # +x, -x, +y, -y, +z, -z as the columns of a 1 x 6 map
            units = np.stack([sg * e for e in np.eye(3) for sg in (1, -1)], 1)
            colours = self._normal(units.reshape(3, 1, 6))[0] / 255
            names = [sg + axis for axis in 'xyz' for sg in '+-']
            handles = [
                Patch(color=colour, label=name)
                for colour, name in zip(colours, names)
            ]
        ax.legend(
            handles=handles,
            loc='upper center',
            ncol=3 if len(handles) > 4 else 2,
            fontsize=7,
            frameon=False,
            handlelength=1.0,
            columnspacing=0.8,
            title=f'{task}: classes drawn'
            if kind == 'classification' else f'{task}: RGB = (n + 1) / 2',
            title_fontsize=7)

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
        draw = self.draw_labelled if self.labelled else self.draw_panels
        grid = image if data_sample is None else draw(image, data_sample)
        self.set_image(grid)
        if show:
            self.show(grid, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(grid), out_file)
        else:
            self.add_image(name, grid, step)
