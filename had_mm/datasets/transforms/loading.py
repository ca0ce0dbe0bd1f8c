import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from had_mm.registry import TRANSFORMS
from had_mm.tasks import get_task
from ..nyuv2_classes import NYUV2_40_TO_13


def _read_png(path: str, flag: str = 'unchanged') -> np.ndarray:
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file "{path}" does not exist')
    try:
        img = mmcv.imread(path, flag=flag, backend='pillow')
    except (OSError, ValueError, SyntaxError) as err:
        # PIL's "image file is truncated" does not name the file
        raise ValueError(f'"{path}" cannot be decoded ({err}): the file is '
                         f'truncated or corrupt; regenerate or re-convert '
                         f'it') from None
    if img is None:
        raise ValueError(f'"{path}" is not a readable image (corrupt file?); '
                         f'regenerate or re-convert it')
    return img


def _read_npy(path: str) -> np.ndarray:
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file "{path}" does not exist')
    try:
        return np.load(path)
    except (ValueError, OSError) as err:
        raise ValueError(f'"{path}" is not a readable .npy file ({err}); '
                         f're-convert it') from None


#: How far a float image may stray outside [0, 1] (rounding of a resize or
#: a colour conversion) and still be read as one; clipped to [0, 1].
FLOAT_IMAGE_TOLERANCE = 1e-3


def image_array_to_uint8(arr: np.ndarray, what: str) -> np.ndarray:
    """An image array of any supported dtype as uint8, or a one-line refusal.

    The rule, by dtype (the channel order is left as it is):

    - ``uint8``: 0-255, taken as it is.
    - another integer dtype (``int64`` from ``np.array`` of Python ints,
      ``uint16``...): read as 0-255 when every value is in 0..255, refused
      otherwise (e.g. a 16-bit image: convert it yourself).
    - a float dtype: must be in [0, 1] (values up to
      :data:`FLOAT_IMAGE_TOLERANCE` outside are clipped) and is scaled by
      255. A float image in 0-255 (maximum above 1) or a normalised one
      (negative values) is refused, never guessed: divide it by 255, or
      store it as uint8.
    - anything else (bool, complex, object): refused.

    Args:
        arr (np.ndarray): The image, any shape.
        what (str): How to name it in messages, e.g. ``'image "a.npy"'``.

    Returns:
        np.ndarray: The same shape, uint8.

    Raises:
        ValueError: One line naming ``what``, its dtype and its range.
    """
    dtype = arr.dtype
    if dtype == np.uint8:
        return arr
    if dtype == np.bool_ or not (np.issubdtype(dtype, np.integer)
                                 or np.issubdtype(dtype, np.floating)):
        raise ValueError(
            f'{what} has dtype {dtype}, which is not an image dtype; images '
            f'must be uint8 (0-255) or float in [0, 1]')
    if arr.size == 0:
        raise ValueError(f'{what} is empty (shape {arr.shape})')
    if np.issubdtype(dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f'{what} has dtype {dtype} with values {lo}..{hi}, outside '
                f'0..255; images must be uint8 (0-255) or float in [0, 1] '
                f'(convert a 16-bit image to 8 bits yourself)')
        return arr.astype(np.uint8)
    finite = np.isfinite(arr)
    if not finite.all():
        # NaN would be cast to an arbitrary byte, silently
        raise ValueError(
            f'{what} contains NaN/inf at {int((~finite).sum())} values; '
            f'images must be finite (uint8 0-255 or float in [0, 1])')
    lo, hi = float(arr.min()), float(arr.max())
    tol = FLOAT_IMAGE_TOLERANCE
    if hi > 1 + tol:
        raise ValueError(
            f'{what} has dtype {dtype} with values up to {hi:g}: a float '
            f'image must be in [0, 1] (this looks like 0-255); divide it '
            f'by 255 or store it as uint8')
    if lo < -tol:
        raise ValueError(
            f'{what} has dtype {dtype} with values down to {lo:g}: a float '
            f'image must be in [0, 1] (this looks normalised); store the '
            f'image before normalisation')
    return np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)


@TRANSFORMS.register_module()
class LoadMultiTaskImage(BaseTransform):
    """Load an RGB image from PNG/JPEG or from an RGB ``.npy`` array.

    A ``.npy`` image is ``HxWx3`` RGB, either uint8 in 0-255 or float in
    [0, 1]; anything else (a float image in 0-255, a normalised one, a
    16-bit one, bool) is refused naming the file, never guessed (the rule:
    :func:`image_array_to_uint8`).

    The image is returned as uint8 BGR, as mmcv's ``LoadImageFromFile`` does,
    so mmseg's data preprocessor (``bgr_to_rgb=True``) applies unchanged.

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``,
    ``ori_shape``.
    """

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        if path.endswith('.npy'):
            arr = _read_npy(path)
            if arr.ndim != 3 or arr.shape[2] != 3:
                raise ValueError(f'"{path}": expected an HxWx3 image array, '
                                 f'got shape {arr.shape}')
            img = image_array_to_uint8(arr, f'image "{path}"')[..., ::-1]
        else:
            if not osp.isfile(path):
                raise FileNotFoundError(f'image "{path}" does not exist')
            img = mmcv.imread(path, flag='color', channel_order='bgr')
            if img is None:
                raise ValueError(f'image "{path}" cannot be decoded (the file '
                                 f'is truncated or corrupt)')
        results['img'] = np.ascontiguousarray(img)
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadMultiTaskAnnotations(BaseTransform):
    """Load the label maps of the requested tasks and check them.

    Decodes each layout of :class:`NYUv2MultiTaskDataset` into one
    convention, the one had_mm's heads, losses and metrics use:

    - ``gt_seg_map``: uint8 HxW class indices, 255 = ignore.
    - ``gt_depth_map``: float32 HxW metres, 0 = invalid (NaN/inf are
      treated as invalid holes).
    - ``gt_normal``: float32 HxWx3 unit vectors, zero vector = invalid
      (an all-zero RGB pixel in a PNG, a zero-length or non-finite vector).
    - ``gt_saliency``: uint8 HxW, 1 = salient, 0 = not, 255 = ignore.

    Any other registered task is loaded by its spec's
    :meth:`~had_mm.tasks.TaskSpec.load_label`.

    Corrupt labels raise a ``ValueError`` naming the file: a label map of
    another size than the image, a class index out of range (reported as
    the value stored in the file), negative depth, a depth PNG that is not
    16-bit, a truncated or undecodable file.

    Args:
        tasks (Sequence[str], optional): Tasks to load; default: the
            ``tasks`` of the data info.
    """

    def __init__(self, tasks: Optional[Sequence[str]] = None) -> None:
        self.tasks = None if tasks is None else list(tasks)

    def transform(self, results: dict) -> dict:
        tasks = self.tasks if self.tasks is not None else results['tasks']
        for task in tasks:
            key = f'{task}_path'
            if key not in results:
                raise KeyError(
                    f'no {task} label for "{results.get("img_path")}": the '
                    f'dataset was built without task "{task}" (add it to '
                    f'the dataset\'s tasks)')
            path = results[key]
            # the built-in tasks' loaders are here; a task registered
            # elsewhere loads through its spec
            loader = getattr(self, f'_load_{task}', None) or \
                get_task(task).load_label
            label = loader(path, results)
            shape = results.get('img_shape')
            if shape is not None and tuple(label.shape[:2]) != tuple(shape):
                raise ValueError(
                    f'{task} label "{path}" is {label.shape[0]}x'
                    f'{label.shape[1]} but its image is {shape[0]}x'
                    f'{shape[1]}; labels must match their image')
        return results

    def _load_semantic(self, path: str, results: dict) -> np.ndarray:
        num_classes = results.get('num_classes', 13)
        if path.endswith('.npy'):
            raw = _read_npy(path)
            seg = np.where(raw < 0, 255, raw)  # -1 = ignore
        else:
            raw = _read_png(path)
            if results.get('semantic_40_to_13'):
                # a 40-class file read as NYUv2-13: the standard table
                if raw.max() > 40:
                    raise ValueError(
                        f'semantic label "{path}" holds value '
                        f'{int(raw.max())}, out of range for its 40 classes '
                        f'(stored as 1..40, 0 = unlabelled)')
                raw = np.asarray(NYUV2_40_TO_13, np.uint8)[raw]
            # 0 = unlabelled; classes are stored 1..C
            seg = np.where(raw == 0, 255, raw.astype(np.int64) - 1)
        if not np.all(np.isfinite(seg)):
            raise ValueError(f'semantic label "{path}" contains NaN/inf; '
                             f'labels must be class indices')
        seg = seg.astype(np.int64)
        bad = (seg != 255) & ((seg < 0) | (seg >= num_classes))
        if bad.any():
            # the value as stored in the file (PNGs store class + 1)
            stored = np.asarray(raw)[bad].max()
            allowed = (f'0..{num_classes - 1} (-1 = ignore)'
                       if path.endswith('.npy') else
                       f'1..{num_classes} (0 = unlabelled)')
            raise ValueError(
                f'semantic label "{path}" holds value {stored:g}, out of '
                f'range for {num_classes} classes (stored as {allowed}); '
                f'check num_classes (13 or 40)')
        results['gt_seg_map'] = seg.astype(np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return seg

    def _load_depth(self, path: str, results: dict) -> np.ndarray:
        if path.endswith('.npy'):
            depth = _read_npy(path).astype(np.float32)
        else:
            raw = _read_png(path)
            if raw.dtype != np.uint16 and not np.issubdtype(
                    raw.dtype, np.floating):
                # 8 bits read as millimetres would be 0-0.25 m, silently
                raise ValueError(
                    f'depth map "{path}" is a {raw.dtype} PNG; depth PNGs '
                    f'must be 16-bit millimetres (uint16), or store metres '
                    f'as float in a .npy file')
            depth = raw.astype(np.float32) / 1000.0  # mm -> m
        depth = np.squeeze(depth)
        if depth.ndim != 2:
            raise ValueError(f'depth map "{path}" must be HxW, got '
                             f'{depth.shape}')
        finite = np.isfinite(depth)
        if (depth[finite] < 0).any():
            raise ValueError(
                f'depth map "{path}" has negative values (min '
                f'{depth[finite].min():.3f}); depth must be metres >= 0 '
                f'with 0 = invalid')
        results['gt_depth_map'] = np.where(finite, depth, 0).astype(np.float32)
        return depth

    def _load_normal(self, path: str, results: dict) -> np.ndarray:
        if path.endswith('.npy'):
            normal = _read_npy(path).astype(np.float32)
            if normal.ndim == 3 and normal.shape[0] == 3 and \
                    normal.shape[2] != 3:
                normal = normal.transpose(1, 2, 0)
            invalid = np.zeros(normal.shape[:2], bool)
        else:
            rgb = _read_png(path, flag='color')[..., ::-1]  # BGR -> RGB
            invalid = np.all(rgb == 0, axis=-1)
            normal = rgb.astype(np.float32) / 255.0 * 2 - 1
        if normal.ndim != 3 or normal.shape[2] != 3:
            raise ValueError(f'normal map "{path}" must be HxWx3, got '
                             f'{normal.shape}')
        norm = np.linalg.norm(normal, axis=-1, keepdims=True)
        invalid |= ~np.isfinite(norm[..., 0]) | (norm[..., 0] < 1e-6)
        with np.errstate(invalid='ignore', divide='ignore'):
            unit = normal / norm
        results['gt_normal'] = np.where(invalid[..., None], 0,
                                        unit).astype(np.float32)
        return normal

    def _load_saliency(self, path: str, results: dict) -> np.ndarray:
        raw = _read_npy(path) if path.endswith('.npy') else _read_png(path)
        raw = np.squeeze(raw)
        if raw.ndim != 2:
            raise ValueError(f'saliency map "{path}" must be HxW')
        finite = np.isfinite(raw)
        top = raw[finite].max() if finite.any() else 1
        # 0/255 PNGs and 0/1 arrays alike; non-finite pixels are ignored.
        scale = 255.0 if top > 1 else 1.0
        sal = np.where(finite, (raw / scale) >= 0.5, 0).astype(np.uint8)
        sal[~finite] = 255
        results['gt_saliency'] = sal
        return sal
