import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine import fileio
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from had_mm.datasets.transforms.loading import LoadMultiTaskImage
from had_mm.registry import HOOKS


@HOOKS.register_module()
class PerImageVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` with ``interval`` counted in images.

    mmseg's hook draws every image of every ``interval``-th *batch* (50 by
    default), so ``tools/test.py --show-dir`` on a small test set wrote
    nothing. This hook draws every ``interval``-th *image* of the
    validation or test run (1 = every image) and also reads images stored
    as ``.npy`` (the preprocessed NYUv2 layout). ``tools/test.py
    --show-dir DIR [--show-interval K]`` switches it on.

    Args:
        draw (bool): Whether to draw. Defaults to False.
        interval (int): Draw every ``interval``-th image. Defaults to 1.
        show (bool): Show the panels in a window. Defaults to False.
        wait_time (float): Seconds each shown panel stays. Defaults to 0.
        backend_args (dict, optional): File backend arguments.
    """

    def __init__(self,
                 draw: bool = False,
                 interval: int = 1,
                 show: bool = False,
                 wait_time: float = 0.,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(draw, interval, show, wait_time, backend_args)
        self._seen = 0

    def before_val(self, runner) -> None:
        self._seen = 0

    def before_test(self, runner) -> None:
        self._seen = 0

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        for output in outputs:
            index, self._seen = self._seen, self._seen + 1
            if index % self.interval:
                continue
            img_path = output.img_path
            self._visualizer.add_datasample(
                f'{mode}_{osp.basename(img_path)}',
                self._read_rgb(img_path),
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                step=runner.iter)

    def _read_rgb(self, path: str) -> np.ndarray:
        """The image as uint8 RGB, from an image file or a float .npy."""
        if path.endswith('.npy'):
            bgr = LoadMultiTaskImage().transform(dict(img_path=path))['img']
            return np.ascontiguousarray(bgr[..., ::-1])
        img_bytes = fileio.get(path, backend_args=self.backend_args)
        return mmcv.imfrombytes(img_bytes, channel_order='rgb')
