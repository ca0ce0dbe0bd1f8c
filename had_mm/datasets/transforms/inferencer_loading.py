import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform

from had_mm.registry import TRANSFORMS
from .loading import LoadMultiTaskImage, image_array_to_uint8

#: Image file types the inferencer reads (what mmcv/OpenCV decode), and
#: ``.npy`` images (uint8 0-255 or float in [0, 1], as
#: :class:`LoadMultiTaskImage`).
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp',
                    '.ppm', '.pgm', '.npy')

#: The channel orders an image array may be given in.
CHANNEL_ORDERS = ('rgb', 'bgr')


def check_channel_order(channel_order: str) -> str:
    """``channel_order``, checked.

    Raises:
        ValueError: If it is not ``'rgb'`` or ``'bgr'``.
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f'channel_order must be "rgb" (numpy, scikit-image, '
                         f'PIL) or "bgr" (mmcv.imread, cv2.imread), got '
                         f'{channel_order!r}')
    return channel_order


@TRANSFORMS.register_module()
class MultiTaskInferencerLoader(BaseTransform):
    """Load an inference input: an image file or an image array.

    The counterpart of mmseg's ``InferencerLoader`` for had_mm pipelines.
    A path goes through :class:`LoadMultiTaskImage` (so an image gives the
    same input as in ``tools/test.py``). An array is ``HxWx3`` (or ``HxW``
    grey) in ``channel_order``: RGB by default, the convention of numpy,
    scikit-image and PIL (``np.asarray(Image.open(...))``); pass
    ``channel_order='bgr'`` for arrays from ``mmcv.imread`` or
    ``cv2.imread``. Its dtype follows the rule of
    :func:`~had_mm.datasets.transforms.loading.image_array_to_uint8`: uint8
    0-255 or float in [0, 1]; anything else is refused by name.

    Required keys: ``img`` (a path or an array; the inferencer's input).
    Added keys: ``img`` (uint8 BGR, as mmcv's loaders give), ``img_path``
    (paths only), ``img_shape``, ``ori_shape``.

    Args:
        channel_order (str): ``'rgb'`` (default) or ``'bgr'``: the channel
            order of array inputs. Files are decoded as what they are.
    """

    def __init__(self, channel_order: str = 'rgb') -> None:
        self.channel_order = check_channel_order(channel_order)
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
                is not an ``HxW`` / ``HxWx3`` image (shape or dtype).
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

    def _from_array(self, img: np.ndarray, results: dict) -> dict:
        # described as given, before any conversion
        what = f'an image array of shape {img.shape} and dtype {img.dtype}'
        order = self.channel_order.upper()
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
            raise ValueError(
                f'{what} is not an image: pass HxWx3 ({order}) or HxW (grey)')
        img = image_array_to_uint8(img, what)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        elif self.channel_order == 'rgb':
            img = img[..., ::-1]  # the pipeline's order is mmcv's (BGR)
        results['img'] = np.ascontiguousarray(img)
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
