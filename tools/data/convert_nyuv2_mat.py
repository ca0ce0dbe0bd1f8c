# Copyright (c) had_mm contributors. All rights reserved.
"""Convert the official labelled NYUv2 ``.mat`` file to the toolkit layout.

Example::

    python tools/data/convert_nyuv2_mat.py nyu_depth_v2_labeled.mat \\
        --splits splits.mat --mapping classMapping40.mat \\
        --out data/nyuv2 [--normals-from-depth]

Inputs:

- ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3, i.e. HDF5; read with h5py,
  ``pip install h5py`` or ``pip install -e .[data]``): datasets ``images``
  (N x 3 x W x H uint8), ``depths`` (N x W x H float metres) and ``labels``
  (N x W x H, the 894-class ids, 0 = unlabelled), all in MATLAB's
  transposed (column-major) order.
- The split: ``splits.mat`` with ``trainNdxs``/``testNdxs`` (1-based, 795 /
  654 images), or ``--split-json`` with ``{"train": [...], "test": [...]}``
  (1-based indices into the ``.mat`` file as well).
- The 894 -> 40 class mapping: ``classMapping40.mat`` (``mapClass``, from
  the NYUv2 toolkit of Gupta et al., CVPR 2013), or a ``.npy`` / ``.json``
  list of 894 values (the 40-class id of 894-class ids 1..894) or of 895
  values (ids 0..894, entry 0 must be 0); values in 0..40, 0 = unlabelled.
- The 40 -> 13 mapping is the standard table, built in (see
  :data:`NYUV2_40_TO_13`).

Output (``NNNNN`` = the 1-based index of the image in the ``.mat`` file)::

    image/{train,test}/NNNNN.png   RGB
    seg40/{train,test}/NNNNN.png   class ids 1..40, 0 = unlabelled
    seg13/{train,test}/NNNNN.png   class ids 1..13, 0 = unlabelled
    depth/{train,test}/NNNNN.png   uint16 millimetres, 0 = invalid
    normal/{train,test}/NNNNN.png  only with --normals-from-depth
    conversion.json                what was converted, with which options

which :class:`had_mm.datasets.NYUv2MultiTaskDataset` reads as the
``toolkit`` layout. NYUv2's ``.mat`` file holds no surface normals:
``--normals-from-depth`` estimates camera-frame normals from the depth map
(cross products of back-projected neighbours, NYUv2 Kinect intrinsics),
which is a rough, noisy estimate. If you have real normal maps (e.g. the
multi-task NYUD release, or the normals of Eigen & Fergus / Ladicky et
al.), use those instead: the ``nyud`` layout reads them directly.
Saliency is derived afterwards with ``tools/data/derive_saliency.py``.

This tool needs NumPy, Pillow, h5py and (for MATLAB v5 ``.mat`` split and
mapping files) SciPy; it does not import mmengine.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from light_import import cli, load_dataset_module  # noqa: E402

# NYUv2-40 class id (1..40) -> NYUv2-13 class id (1..13), index 0 =
# unlabelled: the standard table, kept in had_mm/datasets/nyuv2_classes.py
# (the nyud layout's loader maps with it too).
NYUV2_40_TO_13 = np.array(
    load_dataset_module('nyuv2_classes').NYUV2_40_TO_13, dtype=np.uint8)

# Keys of the labelled .mat file that the converter reads.
IMAGE_KEY = 'images'
LABEL_KEY = 'labels'
DEPTH_KEYS = ('depths', 'rawDepths')
NUM_RAW_CLASSES = 894

_HDF5_SIGNATURE = b'\x89HDF\r\n\x1a\n'

_rooms = load_dataset_module('synthetic_rooms')
encode_depth = _rooms.encode_depth
encode_normal = _rooms.encode_normal
nyu_intrinsics = _rooms.nyu_intrinsics


class ConversionError(Exception):
    """Bad or missing input, reported as one line."""


# ---------------------------------------------------------------------------
# Input files
# ---------------------------------------------------------------------------
def is_hdf5(path: str) -> bool:
    """Whether a file carries the HDF5 signature (MATLAB v7.3 files do).

    The HDF5 superblock sits at byte 0 or at 512, 1024, 2048, ... (MATLAB
    v7.3 writes a 512-byte text header first).

    Args:
        path (str): An existing file.

    Returns:
        bool: True for an HDF5 file.
    """
    size = osp.getsize(path)
    with open(path, 'rb') as f:
        offset = 0
        while offset + len(_HDF5_SIGNATURE) <= size:
            f.seek(offset)
            if f.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                return True
            offset = 512 if offset == 0 else offset * 2
    return False


def _require_file(path: str, what: str) -> None:
    if not osp.isfile(path):
        raise ConversionError(f'{what} "{path}" does not exist')


def _import_h5py():
    try:
        import h5py
    except ImportError:
        raise ConversionError(
            'reading MATLAB v7.3 (HDF5) files needs h5py: pip install h5py '
            '(or pip install -e ".[data]")') from None
    return h5py


def open_labelled_mat(path: str, depth_key: str = 'depths'):
    """Open ``nyu_depth_v2_labeled.mat`` and check its datasets.

    Args:
        path (str): The labelled ``.mat`` file.
        depth_key (str): ``'depths'`` (in-painted, dense) or ``'rawDepths'``
            (raw Kinect depth, 0 = hole).

    Returns:
        tuple: The open ``h5py.File`` and the ``images``, depth and
        ``labels`` datasets.

    Raises:
        ConversionError: If the file is missing, not HDF5, lacks a dataset
            (listing the keys it has) or the shapes disagree.
    """
    _require_file(path, 'labelled NYUv2 file')
    if not is_hdf5(path):
        with open(path, 'rb') as f:
            head = f.read(20)
        hint = (' (it is a MATLAB v5 .mat file)'
                if head.startswith(b'MATLAB 5.0') else '')
        raise ConversionError(
            f'"{path}" is not an HDF5 file{hint}; expected the labelled '
            f'NYUv2 file nyu_depth_v2_labeled.mat (MATLAB v7.3 = HDF5)')
    h5py = _import_h5py()
    try:
        mat = h5py.File(path, 'r')
    except OSError as err:
        raise ConversionError(f'cannot read HDF5 file "{path}": {err}')
    found = sorted(mat.keys())
    for key in (IMAGE_KEY, depth_key, LABEL_KEY):
        if key not in mat or not isinstance(mat[key], h5py.Dataset):
            mat.close()
            raise ConversionError(
                f'"{path}" has no dataset "{key}"; keys found: '
                f'{", ".join(found) or "(none)"}')
    images, depths, labels = mat[IMAGE_KEY], mat[depth_key], mat[LABEL_KEY]
    if images.ndim != 4 or images.shape[1] != 3:
        mat.close()
        raise ConversionError(
            f'"{path}": {IMAGE_KEY} must be N x 3 x W x H, got '
            f'{images.shape}')
    expected = (images.shape[0], ) + tuple(images.shape[2:])
    for key, ds in ((depth_key, depths), (LABEL_KEY, labels)):
        if tuple(ds.shape) != expected:
            mat.close()
            raise ConversionError(
                f'"{path}": {key} must be N x W x H = {expected} like '
                f'{IMAGE_KEY}, got {tuple(ds.shape)}')
    return mat, images, depths, labels


def _read_mat_arrays(path: str, what: str) -> Dict[str, np.ndarray]:
    """Read the numeric arrays of a MATLAB file (v5 via SciPy, v7.3 via
    h5py)."""
    _require_file(path, what)
    if is_hdf5(path):
        h5py = _import_h5py()
        with h5py.File(path, 'r') as mat:
            return {
                k: np.asarray(v).T
                for k, v in mat.items() if isinstance(v, h5py.Dataset)
            }
    try:
        from scipy.io import loadmat
    except ImportError:
        raise ConversionError(
            f'reading the MATLAB file "{path}" needs SciPy (pip install '
            f'scipy), or pass a .json file instead') from None
    try:
        mat = loadmat(path)
    except Exception as err:  # SciPy raises several types for bad files
        raise ConversionError(f'cannot read {what} "{path}" as a MATLAB file '
                              f'({err})')
    return {k: v for k, v in mat.items() if not k.startswith('__')}


def _index_list(values, name: str, source: str, num: int) -> List[int]:
    arr = np.asarray(values).ravel()
    if arr.size == 0 or arr.dtype.kind not in 'iuf' or np.any(
            arr != np.round(arr)):
        raise ConversionError(f'{source}: "{name}" must be a non-empty list '
                              f'of integer image indices')
    idx = arr.astype(np.int64)
    if idx.min() < 1 or idx.max() > num:
        raise ConversionError(
            f'{source}: "{name}" has index {int(idx.min())}..'
            f'{int(idx.max())}; indices are 1-based (as in splits.mat) and '
            f'the .mat file has {num} images')
    if len(np.unique(idx)) != len(idx):
        raise ConversionError(f'{source}: "{name}" lists an image twice')
    return idx.tolist()


def load_split(num_images: int,
               splits_mat: Optional[str] = None,
               split_json: Optional[str] = None) -> Dict[str, List[int]]:
    """Read the train/test split (1-based image indices).

    Args:
        num_images (int): Images in the labelled file.
        splits_mat (str, optional): ``splits.mat`` (``trainNdxs``,
            ``testNdxs``).
        split_json (str, optional): JSON ``{"train": [...], "test": [...]}``.

    Returns:
        dict: ``{'train': [...], 'test': [...]}``, 1-based indices.

    Raises:
        ConversionError: If the file is missing or malformed, an index is
            out of range, or an image is in both splits.
    """
    if split_json is not None:
        _require_file(split_json, 'split file')
        try:
            with open(split_json) as f:
                data = json.load(f)
        except json.JSONDecodeError as err:
            raise ConversionError(f'split file "{split_json}" is not valid '
                                  f'JSON ({err})')
        keys = {'train': 'train', 'test': 'test'}
        source = split_json
    else:
        data = _read_mat_arrays(splits_mat, 'split file')
        keys = {'train': 'trainNdxs', 'test': 'testNdxs'}
        source = splits_mat
    if not isinstance(data, dict):
        raise ConversionError(f'{source}: expected an object with "train" '
                              f'and "test" lists')
    split = {}
    for name, key in keys.items():
        if key not in data:
            raise ConversionError(f'{source} has no "{key}"; keys found: '
                                  f'{", ".join(sorted(data)) or "(none)"}')
        split[name] = _index_list(data[key], key, source, num_images)
    both = set(split['train']) & set(split['test'])
    if both:
        raise ConversionError(f'{source}: {len(both)} image(s) are in both '
                              f'splits, e.g. {min(both)}')
    return split


def load_mapping(path: str) -> np.ndarray:
    """Read the 894 -> 40 class mapping as a lookup table.

    Args:
        path (str): ``classMapping40.mat`` (``mapClass``), or a ``.npy`` /
            ``.json`` list of 894 values (ids 1..894) or 895 (ids 0..894).

    Returns:
        np.ndarray: uint8 table of length 895: ``lut[raw_id]`` is the
        NYUv2-40 id (0 = unlabelled).

    Raises:
        ConversionError: If the file is missing or malformed.
    """
    _require_file(path, 'class mapping file')
    ext = osp.splitext(path)[1].lower()
    if ext == '.json':
        try:
            with open(path) as f:
                values = json.load(f)
        except json.JSONDecodeError as err:
            raise ConversionError(f'mapping file "{path}" is not valid JSON '
                                  f'({err})')
    elif ext == '.npy':
        try:
            values = np.load(path)
        except (ValueError, OSError) as err:
            raise ConversionError(f'cannot read mapping "{path}" ({err})')
    else:
        data = _read_mat_arrays(path, 'class mapping file')
        if 'mapClass' not in data:
            raise ConversionError(f'"{path}" has no "mapClass"; keys found: '
                                  f'{", ".join(sorted(data)) or "(none)"}')
        values = data['mapClass']
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ConversionError(f'mapping "{path}" must be a list of numbers')
    if arr.size == NUM_RAW_CLASSES:
        arr = np.concatenate([[0], arr])
    if arr.size != NUM_RAW_CLASSES + 1 or arr[0] != 0:
        raise ConversionError(
            f'mapping "{path}" must list the 40-class id of the '
            f'{NUM_RAW_CLASSES} NYUv2 classes ({NUM_RAW_CLASSES} values, or '
            f'{NUM_RAW_CLASSES + 1} with entry 0 = 0), got {arr.size} values')
    if np.any(arr != np.round(arr)) or arr.min() < 0 or arr.max() > 40:
        raise ConversionError(f'mapping "{path}" must hold integers in '
                              f'0..40 (0 = unlabelled)')
    return arr.astype(np.uint8)


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------
def normals_from_depth(depth: np.ndarray,
                       intrinsics: Sequence[float],
                       step: int = 1) -> np.ndarray:
    """Estimate camera-frame surface normals from a depth map.

    Every pixel is back-projected to ``P = z * ((u - cx) / fx, (v - cy) /
    fy, 1)`` (OpenCV frame: x right, y down, z forward). The normal is the
    cross product of the differences to the vertical and horizontal
    neighbours ``step`` pixels away (one-sided at the image border),
    normalised and oriented towards the camera (``n . P < 0``), the
    convention of the synthetic-rooms labels.

    Args:
        depth (np.ndarray): HxW z-depth in metres, 0 (or non-finite) =
            invalid.
        intrinsics (Sequence[float]): ``(fx, fy, cx, cy)`` in pixels.
        step (int): Neighbour distance in pixels; larger values smooth
            Kinect noise at the cost of detail.

    Returns:
        np.ndarray: float32 HxWx3 unit normals; the zero vector where the
        pixel or a neighbour it uses has no valid depth, or the neighbours
        are collinear.
    """
    if step < 1:
        raise ValueError(f'step must be >= 1, got {step}')
    z = np.asarray(depth, np.float64)
    valid = np.isfinite(z) & (z > 0)
    z = np.where(valid, z, 0.0)
    h, w = z.shape
    fx, fy, cx, cy = intrinsics
    u = (np.arange(w, dtype=np.float64) - cx) / fx
    v = (np.arange(h, dtype=np.float64) - cy) / fy
    points = np.stack([z * u[None, :], z * v[:, None], z],
                      axis=-1)  # H x W x 3

    # Neighbour indices, clamped at the border (one-sided differences).
    cols = np.arange(w)
    rows = np.arange(h)
    right, left = np.minimum(cols + step, w - 1), np.maximum(cols - step, 0)
    down, up = np.minimum(rows + step, h - 1), np.maximum(rows - step, 0)
    d_u = points[:, right] - points[:, left]
    d_v = points[down] - points[up]
    normal = np.cross(d_v, d_u)
    # Orient towards the camera.
    flip = np.sum(normal * points, axis=-1) > 0
    normal[flip] *= -1
    norm = np.linalg.norm(normal, axis=-1, keepdims=True)
    ok = (
        valid & valid[:, right] & valid[:, left] & valid[down]
        & valid[up] & (norm[..., 0] > 1e-12))
    out = np.where(ok[..., None], normal / np.maximum(norm, 1e-12), 0.0)
    return out.astype(np.float32)


def _save_png(path: str, arr: np.ndarray) -> None:
    Image.fromarray(np.ascontiguousarray(arr)).save(path, compress_level=1)


def convert_sample(image: np.ndarray,
                   depth: np.ndarray,
                   label: np.ndarray,
                   map40: np.ndarray,
                   normals: bool = False,
                   normal_step: int = 1) -> Dict[str, np.ndarray]:
    """Convert one sample from MATLAB order to the toolkit arrays.

    Args:
        image (np.ndarray): 3 x W x H uint8, as stored in the ``.mat`` file.
        depth (np.ndarray): W x H float metres.
        label (np.ndarray): W x H 894-class ids (0 = unlabelled).
        map40 (np.ndarray): 894 -> 40 table from :func:`load_mapping`.
        normals (bool): Also estimate normals from depth.
        normal_step (int): See :func:`normals_from_depth`.

    Returns:
        dict: ``image`` (HxWx3 uint8), ``seg40`` / ``seg13`` (HxW uint8),
        ``depth`` (HxW uint16 mm) and, with ``normals``, ``normal`` (HxWx3
        uint8).

    Raises:
        ConversionError: If a label exceeds the mapping.
    """
    img = np.ascontiguousarray(np.transpose(image, (2, 1, 0)))
    if img.dtype != np.uint8:
        img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    z = np.asarray(depth, np.float64).T
    raw = np.asarray(label).T.astype(np.int64)
    if raw.size and (raw.min() < 0 or raw.max() >= len(map40)):
        raise ConversionError(
            f'label {int(raw.max())} is outside the 894-class mapping '
            f'(0..{len(map40) - 1})')
    seg40 = map40[raw]
    out = dict(
        image=img,
        seg40=seg40,
        seg13=NYUV2_40_TO_13[seg40],
        depth=encode_depth(z))
    if normals:
        out['normal'] = encode_normal(
            normals_from_depth(z, nyu_intrinsics(*z.shape), normal_step))
    return out


def convert(mat_path: str,
            out_dir: str,
            split: Dict[str, List[int]],
            map40: np.ndarray,
            depth_key: str = 'depths',
            normals: bool = False,
            normal_step: int = 1,
            log=print) -> Dict[str, int]:
    """Write the toolkit layout for the images of ``split``.

    Args:
        mat_path (str): ``nyu_depth_v2_labeled.mat``.
        out_dir (str): Output folder (created).
        split (dict): ``{'train': [...], 'test': [...]}``, 1-based indices.
        map40 (np.ndarray): 894 -> 40 table from :func:`load_mapping`.
        depth_key (str): ``'depths'`` or ``'rawDepths'``.
        normals (bool): Also write normals estimated from depth.
        normal_step (int): See :func:`normals_from_depth`.
        log (callable): Progress printer.

    Returns:
        dict: Number of images written per split.
    """
    map40 = np.asarray(map40)
    if map40.shape != (NUM_RAW_CLASSES + 1, ) or map40.max() > 40:
        raise ConversionError(
            f'map40 must be the {NUM_RAW_CLASSES + 1}-entry lookup table of '
            f'load_mapping, got shape {map40.shape}')
    map40 = map40.astype(np.uint8)
    mat, images, depths, labels = open_labelled_mat(mat_path, depth_key)
    kinds = ['image', 'seg40', 'seg13', 'depth'
             ] + (['normal'] if normals else [])
    counts = {}
    start = time.time()
    try:
        num = images.shape[0]
        split = {
            name: _index_list(indices, name, 'split', num)
            for name, indices in split.items()
        }
        for name in split:
            for kind in kinds:
                os.makedirs(osp.join(out_dir, kind, name), exist_ok=True)
        total = sum(len(v) for v in split.values())
        done = 0
        for name, indices in split.items():
            for index in indices:
                i = index - 1
                arrays = convert_sample(images[i], depths[i], labels[i], map40,
                                        normals, normal_step)
                for kind in kinds:
                    _save_png(
                        osp.join(out_dir, kind, name, f'{index:05d}.png'),
                        arrays[kind])
                done += 1
                if done % 100 == 0 or done == total:
                    log(f'{done}/{total} images '
                        f'({time.time() - start:.0f} s)')
            counts[name] = len(indices)
    finally:
        mat.close()
    meta = dict(
        source=osp.abspath(mat_path),
        layout='toolkit',
        counts=counts,
        depth_key=depth_key,
        depth='uint16 PNG, millimetres, 0 = invalid',
        seg40='class ids 1..40 (NYUv2-40), 0 = unlabelled',
        seg13='class ids 1..13 (NYUv2-13, standard 40 -> 13 table), '
        '0 = unlabelled',
        normal=('estimated from depth (--normals-from-depth, step '
                f'{normal_step}); RGB, n = rgb / 255 * 2 - 1, (0, 0, 0) = '
                'invalid') if normals else None,
        file_names='NNNNN = 1-based index in the .mat file')
    with open(osp.join(out_dir, 'conversion.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return counts


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser(
        'Convert the labelled NYUv2 file nyu_depth_v2_labeled.mat '
        '(MATLAB v7.3 / HDF5) to the had_mm toolkit layout (image, seg40, '
        'seg13, depth and optionally normal PNGs per split).')
    parser.add_argument('mat', help='path of nyu_depth_v2_labeled.mat')
    parser.add_argument(
        '--out', required=True, help='output directory (created if missing)')
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        '--splits',
        help='splits.mat with trainNdxs / testNdxs (1-based indices)')
    group.add_argument(
        '--split-json',
        help='JSON file {"train": [...], "test": [...]} of 1-based indices, '
        'instead of --splits')
    parser.add_argument(
        '--mapping',
        required=True,
        help='894 -> 40 class mapping: classMapping40.mat (mapClass) from '
        'the NYUv2 toolkit, or a .npy / .json list of 894 values')
    parser.add_argument(
        '--depth-key',
        choices=DEPTH_KEYS,
        default='depths',
        help='depth dataset to convert: "depths" (in-painted, dense; the '
        'usual choice) or "rawDepths" (raw Kinect, 0 = hole) '
        '(default: depths)')
    parser.add_argument(
        '--normals-from-depth',
        action='store_true',
        help='also write normal/ maps estimated from depth with the NYUv2 '
        'intrinsics (rough; prefer real normal maps where you have them)')
    parser.add_argument(
        '--normal-step',
        type=int,
        default=1,
        help='neighbour distance in pixels for --normals-from-depth; larger '
        'is smoother (default: 1)')
    args = parser.parse_args(argv)
    if args.normal_step < 1:
        parser.error(f'--normal-step must be >= 1, got {args.normal_step}')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Run the conversion; one ``error:`` line and exit status 2 on bad
    input."""
    args = parse_args(argv)
    try:
        mat, images, _, _ = open_labelled_mat(args.mat, args.depth_key)
        num = images.shape[0]
        mat.close()
        map40 = load_mapping(args.mapping)
        split = load_split(num, args.splits, args.split_json)
        counts = convert(args.mat, args.out, split, map40, args.depth_key,
                         args.normals_from_depth, args.normal_step)
    except ConversionError as err:
        cli.exit_error(err)
    print(f'wrote {counts.get("train", 0)} train and '
          f'{counts.get("test", 0)} test images to {args.out} (toolkit '
          f'layout); derive saliency with tools/data/derive_saliency.py '
          f'{args.out}')


if __name__ == '__main__':
    main()
