import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform

from had_mm.registry import TRANSFORMS
from .loading import LoadMultiTaskImage

#: Image file types the inferencer reads (what mmcv/OpenCV decode), and
#: float ``.npy`` images in [0, 1] (as :class:`LoadMultiTaskImage`).
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp',
                    '.ppm', '.pgm', '.npy')


@TRANSFORMS.register_module()
class MultiTaskInferencerLoader(BaseTransform):
    """Load an inference input: an image file or an image array.

    The counterpart of mmseg's ``InferencerLoader`` for had_mm pipelines.
    A path goes through :class:`LoadMultiTaskImage` (so an image gives the
    same input as in ``tools/test.py``); an array is taken as it is, in the
    channel order of ``mmcv.imread`` (BGR), as mmseg's inferencer does.

    Required keys: ``img`` (a path or an array; the inferencer's input).
    Added keys: ``img``, ``img_path`` (paths only), ``img_shape``,
    ``ori_shape``.
    """

    def __init__(self) -> None:
        self.from_file = LoadMultiTaskImage()

    def transform(self, results: dict) -> dict:
        """Load one input.

        Args:
            results (dict): ``dict(img=path_or_array)``, or a path or an
                array directly.

        Returns:
            dict: The loaded image and its shapes.

        Raises:
            FileNotFoundError: For a path that does not exist.
            ValueError: For a file that is not an image, or an array that
                is not ``HxW`` / ``HxWx3`` uint8.
        """
        if not isinstance(results, dict):
            results = dict(img=results)
        img = results.pop('img')
        if isinstance(img, str):
            return self._from_file(img, results)
        if not isinstance(img, np.ndarray):
            raise ValueError(
                f'cannot read an image from a {type(img).__name__}; pass an '
                f'image path, a folder or an HxWx3 uint8 array')
        return self._from_array(img, results)

    def _from_file(self, path: str, results: dict) -> dict:
        if not osp.isfile(path):
            raise FileNotFoundError(f'image "{path}" does not exist')
        results['img_path'] = path
        if path.endswith('.npy'):
            return self.from_file(results)  # its errors name the problem
        try:
            return self.from_file(results)
        except ValueError:
            # mmcv returns None for anything it cannot decode
            raise ValueError(
                f'"{path}" is not an image (it cannot be decoded); pass a '
                f'PNG/JPEG/BMP/TIFF file or an HxWx3 uint8 array') from None

    @staticmethod
    def _from_array(img: np.ndarray, results: dict) -> dict:
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f'an image array must be HxWx3 (or HxW) uint8, got shape '
                f'{img.shape} and dtype {img.dtype}; convert it with '
                f'(arr * 255).astype(np.uint8) if it is a float image in '
                f'[0, 1]')
        results['img'] = np.ascontiguousarray(img)
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
