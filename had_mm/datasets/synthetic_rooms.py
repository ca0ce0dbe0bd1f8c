# Copyright (c) had_mm contributors. All rights reserved.
"""Procedural "synthetic rooms": indoor-like RGB-D scenes with exact labels.

A pinhole camera with NYUv2-like intrinsics sits inside a box room (wall,
floor, ceiling, with window and picture rectangles on the walls) that holds
2-8 objects built from boxes, spheres and vertical cylinders with
class-dependent shape, size and colour priors. Every pixel is ray cast
(vectorised over all rays, one primitive at a time, nearest hit wins), which
gives exact ground truth for four dense tasks:

- ``semantic``: NYUv2-13 class ids 1..13 (:data:`NYUV2_13_CLASSES`).
- ``depth``: z-depth in metres (distance along the optical axis).
- ``normal``: unit surface normal in the camera frame, facing the camera.
- ``saliency``: 1 on object pixels, 0 on room structure
  (:data:`ROOM_STRUCTURE_CLASSES`).

Conventions (what a reader of the written data set must know):

- Camera frame: OpenCV, x right, y down, z forward. A horizontal flip of an
  image negates the normal's x component.
- Intrinsics: :func:`nyu_intrinsics` (the NYUv2 Kinect RGB intrinsics at
  480 x 640, scaled to the image size with the pixel-centre convention).
- On disk (NYUv2 "toolkit" layout, see :func:`generate_synthetic_rooms`):
  ``depth`` is a uint16 PNG in millimetres (0 = invalid); ``normal`` is an
  RGB PNG with ``n = rgb / 255 * 2 - 1`` and **an all-zero pixel (0, 0, 0)
  marks an invalid normal** (no unit vector encodes to (0, 0, 0), because
  that needs all three components below -1 + 1/255); ``seg13`` holds the
  class ids (0 = unlabelled, never produced by the generator); ``saliency``
  is 0/255. :func:`encode_depth`, :func:`decode_depth`,
  :func:`encode_normal` and :func:`decode_normal` implement these.
- With depth holes on, the normal is invalid (zero vector / (0, 0, 0) on
  disk) wherever the depth is invalid; semantic and saliency stay labelled.

This module needs only NumPy and Pillow.
"""
import colorsys
import json
import math
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image

from . import nyuv2_classes

__all__ = [
    'GENERATOR_VERSION', 'NYUV2_13_CLASSES', 'NYUV2_13_PALETTE',
    'ROOM_STRUCTURE_CLASSES', 'SALIENT_CLASSES', 'DEPTH_SCALE',
    'MAX_VALID_DEPTH', 'nyu_intrinsics', 'render_room',
    'generate_synthetic_rooms', 'encode_depth', 'decode_depth',
    'encode_normal', 'decode_normal', 'is_test_index'
]

GENERATOR_VERSION = '1.0'

#: NYUv2-13 class names for the class ids 1..13 (0 = unlabelled).
NYUV2_13_CLASSES = nyuv2_classes.NYUV2_13_CLASSES
#: One RGB colour per class of :data:`NYUV2_13_CLASSES` (ids 1..13), the
#: same as the NYUv2 dataset's palette.
NYUV2_13_PALETTE = nyuv2_classes.NYUV2_13_PALETTE

#: Room structure classes (saliency 0). Every other class is salient.
ROOM_STRUCTURE_CLASSES = ('ceiling', 'floor', 'wall', 'window')
SALIENT_CLASSES = tuple(c for c in NYUV2_13_CLASSES
                        if c not in ROOM_STRUCTURE_CLASSES)

#: Depth PNG units per metre (uint16 millimetres).
DEPTH_SCALE = 1000.0
#: Kinect-like range limit: farther pixels become holes when holes are on.
MAX_VALID_DEPTH = 8.0

# NYUv2 Kinect RGB intrinsics at 480 x 640 (fx, fy, cx, cy).
_NYU_HW = (480, 640)
_NYU_K = (518.8579, 519.4696, 325.5824, 253.7362)

_CID = {name: i + 1 for i, name in enumerate(NYUV2_13_CLASSES)}
_SALIENT_LUT = np.zeros(256, np.uint8)
_SALIENT_LUT[[_CID[c] for c in SALIENT_CLASSES]] = 1
_EPS = 1e-6
_NEAR = 0.02


def nyu_intrinsics(height: int,
                   width: int) -> Tuple[float, float, float, float]:
    """NYUv2 Kinect RGB intrinsics scaled to an image size.

    Args:
        height (int): Image height in pixels.
        width (int): Image width in pixels.

    Returns:
        tuple[float]: ``(fx, fy, cx, cy)`` in pixels; pixel ``(u, v)`` has
        its centre at integer coordinates, so the ray of pixel ``(u, v)``
        is ``((u - cx) / fx, (v - cy) / fy, 1)`` in the camera frame.
    """
    sy = height / _NYU_HW[0]
    sx = width / _NYU_HW[1]
    fx, fy, cx, cy = _NYU_K
    return (fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5)


def is_test_index(index: int, test_fraction: float) -> bool:
    """Whether image ``index`` belongs to the test split.

    The split depends only on ``(index, test_fraction)``, so any prefix of a
    data set keeps its split; image 0 is a test image whenever
    ``test_fraction > 0`` and about ``test_fraction`` of every run of
    consecutive indices is test.

    Args:
        index (int): Global image index (>= 0).
        test_fraction (float): Fraction of test images in [0, 1].

    Returns:
        bool: True for a test image.
    """
    f = float(test_fraction)
    if f <= 0:
        return False
    if f >= 1:
        return True
    return math.floor((index + 1) * f + 1 - f) > math.floor(index * f + 1 - f)


# ---------------------------------------------------------------------------
# Encoding helpers (the on-disk conventions)
# ---------------------------------------------------------------------------
def encode_depth(depth: np.ndarray) -> np.ndarray:
    """Encode z-depth in metres as uint16 millimetres (0 = invalid).

    Args:
        depth (np.ndarray): Float depth in metres, 0 (or non-finite) where
            invalid.

    Returns:
        np.ndarray: uint16 array of the same shape.
    """
    d = np.nan_to_num(np.asarray(depth, np.float64), nan=0.0, posinf=0.0)
    mm = np.rint(d * DEPTH_SCALE)
    return np.clip(mm, 0, 65535).astype(np.uint16)


def decode_depth(png: np.ndarray) -> np.ndarray:
    """Decode a millimetre depth PNG array to float32 metres (0 = invalid).

    Args:
        png (np.ndarray): Integer array read from a depth PNG.

    Returns:
        np.ndarray: float32 depth in metres.
    """
    return (np.asarray(png).astype(np.float32) / DEPTH_SCALE)


def encode_normal(normal: np.ndarray) -> np.ndarray:
    """Encode unit normals as RGB with ``rgb = round((n + 1) / 2 * 255)``.

    Pixels whose normal is the zero vector (invalid) are written as
    (0, 0, 0), which no unit normal produces.

    Args:
        normal (np.ndarray): Float array (H, W, 3), unit vectors or zeros.

    Returns:
        np.ndarray: uint8 array (H, W, 3).
    """
    n = np.asarray(normal, np.float64)
    rgb = np.clip(np.rint((n + 1.0) * 127.5), 0, 255).astype(np.uint8)
    invalid = ~np.any(n != 0, axis=-1)
    rgb[invalid] = 0
    return rgb


def decode_normal(rgb: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Decode an RGB normal PNG array (``n = rgb / 255 * 2 - 1``).

    Args:
        rgb (np.ndarray): uint8 array (H, W, 3).

    Returns:
        tuple[np.ndarray, np.ndarray]: float32 normals (H, W, 3), renormalised
        to unit length and set to zero where invalid, and the bool validity
        mask (H, W), False exactly where the pixel is (0, 0, 0).
    """
    rgb = np.asarray(rgb)
    valid = np.any(rgb != 0, axis=-1)
    n = rgb.astype(np.float32) / 255.0 * 2.0 - 1.0
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    n = np.where(valid[..., None], n / np.maximum(norm, 1e-6), 0.0)
    return n.astype(np.float32), valid


# ---------------------------------------------------------------------------
# Scene sampling (independent of the image size)
# ---------------------------------------------------------------------------
def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v))


def _wood(rng: np.random.Generator) -> np.ndarray:
    return _hsv(
        rng.uniform(0.04, 0.11), rng.uniform(0.45, 0.75),
        rng.uniform(0.3, 0.75))


def _neutral(rng: np.random.Generator,
             lo: float,
             hi: float,
             tint: float = 0.06) -> np.ndarray:
    return np.clip(rng.uniform(lo, hi) + rng.uniform(-tint, tint, 3), 0, 1)


def _saturated(rng: np.random.Generator) -> np.ndarray:
    return _hsv(rng.uniform(), rng.uniform(0.5, 0.95), rng.uniform(0.35, 0.9))


def _muted(rng: np.random.Generator) -> np.ndarray:
    return _hsv(rng.uniform(), rng.uniform(0.1, 0.5), rng.uniform(0.2, 0.75))


def _rand_dir(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / (np.linalg.norm(v) + 1e-12)


def _surface(rng: np.random.Generator,
             cls: str,
             albedo: np.ndarray,
             kind: str = 'noise',
             emissive: float = 0.0) -> dict:
    """Sample the appearance of one surface (albedo and texture)."""
    albedo = np.clip(np.asarray(albedo, np.float64), 0.02, 1.0)
    k1 = np.zeros(3)
    k2 = np.zeros(3)
    k3 = np.zeros(3)
    a1 = a2 = 0.0
    ph1 = np.full(3, rng.uniform(0, 2 * np.pi))
    ph2 = rng.uniform(0, 2 * np.pi, 2)
    chk_scale, chk_amp = 1.0, 0.0
    if kind == 'stripes':  # wood grain / planks
        axis = np.zeros(3)
        axis[rng.integers(0, 3)] = 1.0
        k1 = axis * rng.uniform(3.0, 12.0) + _rand_dir(rng) * 0.5
        a1 = rng.uniform(0.08, 0.2)
        k2 = _rand_dir(rng) * rng.uniform(0.5, 2.0)
        k3 = _rand_dir(rng) * rng.uniform(0.5, 2.0)
        a2 = rng.uniform(0.05, 0.15)
    elif kind == 'tiles':
        chk_scale = rng.uniform(0.25, 0.6)
        chk_amp = rng.uniform(0.06, 0.18)
        k2 = _rand_dir(rng) * rng.uniform(1.0, 4.0)
        k3 = _rand_dir(rng) * rng.uniform(1.0, 4.0)
        a2 = rng.uniform(0.03, 0.1)
    elif kind == 'picture':
        k1 = _rand_dir(rng) * rng.uniform(3.0, 10.0)
        ph1 = rng.uniform(0, 2 * np.pi, 3)
        a1 = rng.uniform(0.3, 0.6)
        k2 = _rand_dir(rng) * rng.uniform(4.0, 12.0)
        k3 = _rand_dir(rng) * rng.uniform(4.0, 12.0)
        a2 = rng.uniform(0.2, 0.4)
    elif kind == 'plain':
        k2 = _rand_dir(rng) * rng.uniform(0.3, 1.5)
        k3 = _rand_dir(rng) * rng.uniform(0.3, 1.5)
        a2 = rng.uniform(0.02, 0.06)
    else:  # 'noise': fabric / paint blotches
        k1 = _rand_dir(rng) * rng.uniform(6.0, 20.0)
        a1 = rng.uniform(0.03, 0.1)
        k2 = _rand_dir(rng) * rng.uniform(1.0, 6.0)
        k3 = _rand_dir(rng) * rng.uniform(1.0, 6.0)
        a2 = rng.uniform(0.05, 0.15)
    return dict(
        cls=_CID[cls],
        albedo=albedo,
        k1=k1,
        k2=k2,
        k3=k3,
        a1=a1,
        a2=a2,
        ph1=ph1,
        ph2=ph2,
        chk_scale=chk_scale,
        chk_amp=chk_amp,
        emissive=emissive,
        hole=False)


def _build_bed(rng, add):
    w, ln = rng.uniform(1.0, 2.0), rng.uniform(1.9, 2.2)
    frame = add('bed',
                _wood(rng) if rng.random() < 0.6 else _muted(rng), 'stripes')
    sheet = add(
        'bed',
        _neutral(rng, 0.6, 0.95, 0.1) if rng.random() < 0.6 else _muted(rng),
        'noise')
    base_h = rng.uniform(0.2, 0.35)
    mat_h = rng.uniform(0.15, 0.25)
    parts = [('box', (0, 0, base_h / 2), (w / 2, ln / 2, base_h / 2), frame),
             ('box', (0, -0.02, base_h + mat_h / 2),
              (w / 2 - 0.02, ln / 2 - 0.04, mat_h / 2), sheet)]
    if rng.random() < 0.8:
        hb = rng.uniform(0.8, 1.3)
        parts.append(
            ('box', (0, ln / 2 - 0.03, hb / 2), (w / 2, 0.03, hb / 2), frame))
    top = base_h + mat_h
    n_pillow = 1 if w < 1.3 else 2
    for k in range(n_pillow):
        x = (k + 0.5) / n_pillow * w - w / 2
        parts.append(('box', (x, ln / 2 - 0.3, top + 0.06),
                      (min(0.3, w / n_pillow / 2 - 0.05), 0.18, 0.06), sheet))
    return parts, (w / 2, ln / 2), None, True


def _build_chair(rng, add):
    s = rng.uniform(0.4, 0.52) / 2
    seat_z = rng.uniform(0.42, 0.5)
    th = rng.uniform(0.03, 0.06)
    col = _wood(rng) if rng.random() < 0.5 else _saturated(rng)
    sid = add('chair', col, 'stripes' if rng.random() < 0.5 else 'plain')
    parts = [('box', (0, 0, seat_z - th / 2), (s, s, th / 2), sid)]
    back_h = rng.uniform(0.35, 0.55)
    parts.append(('box', (0, s - 0.025, seat_z + back_h / 2),
                  (s, 0.025, back_h / 2), sid))
    if rng.random() < 0.75:
        lg = rng.uniform(0.015, 0.03)
        for x in (-s + lg, s - lg):
            for y in (-s + lg, s - lg):
                parts.append(('box', (x, y, (seat_z - th) / 2),
                              (lg, lg, (seat_z - th) / 2), sid))
    else:  # office chair: one stem on a disc
        parts.append(('cyl', (0, 0), 0.0, seat_z - th, 0.03, sid))
        parts.append(('cyl', (0, 0), 0.0, 0.05, s * 1.1, sid))
    return parts, (s, s), None, False


def _build_table(rng, add):
    top_z = rng.uniform(0.68, 0.78)
    th = rng.uniform(0.03, 0.06)
    sid = add('table',
              _wood(rng) if rng.random() < 0.7 else _neutral(rng, 0.1, 0.9),
              'stripes')
    if rng.random() < 0.3:  # round table
        r = rng.uniform(0.35, 0.6)
        parts = [('cyl', (0, 0), top_z - th, top_z, r, sid),
                 ('cyl', (0, 0), 0.0, top_z - th, 0.05, sid),
                 ('cyl', (0, 0), 0.0, 0.04, r * 0.5, sid)]
        hx = hy = r
        sup = (r * 0.7, r * 0.7, top_z)
    else:
        hx = rng.uniform(0.8, 1.8) / 2
        hy = rng.uniform(0.55, 1.0) / 2
        parts = [('box', (0, 0, top_z - th / 2), (hx, hy, th / 2), sid)]
        lg = rng.uniform(0.02, 0.04)
        for x in (-hx + 2 * lg, hx - 2 * lg):
            for y in (-hy + 2 * lg, hy - 2 * lg):
                parts.append(('box', (x, y, (top_z - th) / 2),
                              (lg, lg, (top_z - th) / 2), sid))
        sup = (hx - 0.05, hy - 0.05, top_z)
    return parts, (hx, hy), sup, False


def _build_sofa(rng, add):
    hx = rng.uniform(1.4, 2.4) / 2
    hy = rng.uniform(0.8, 0.95) / 2
    sid = add('sofa', _muted(rng), 'noise')
    seat_z = rng.uniform(0.38, 0.48)
    back_t = rng.uniform(0.15, 0.25)
    back_z = rng.uniform(0.75, 0.95)
    arm_t = rng.uniform(0.1, 0.22)
    arm_z = rng.uniform(0.55, 0.68)
    parts = [('box', (0, -back_t / 2, seat_z / 2),
              (hx - arm_t, hy - back_t / 2, seat_z / 2), sid),
             ('box', (0, hy - back_t / 2, back_z / 2), (hx, back_t / 2,
                                                        back_z / 2), sid)]
    for x in (-hx + arm_t / 2, hx - arm_t / 2):
        parts.append(
            ('box', (x, 0, arm_z / 2), (arm_t / 2, hy, arm_z / 2), sid))
    return parts, (hx, hy), None, True


def _build_furniture(rng, add):
    tall = rng.random() < 0.4
    hx = rng.uniform(0.5, 1.6) / 2
    hy = rng.uniform(0.35, 0.6) / 2
    h = rng.uniform(1.4, 2.1) if tall else rng.uniform(0.5, 1.2)
    col = _wood(rng) if rng.random() < 0.6 else _neutral(rng, 0.3, 0.95)
    sid = add('furniture', col, 'stripes' if rng.random() < 0.6 else 'plain')
    parts = [('box', (0, 0, h / 2), (hx, hy, h / 2), sid)]
    if rng.random() < 0.5:  # plinth / drawer front slab
        front = add('furniture', np.clip(col * rng.uniform(0.6, 1.2), 0, 1),
                    'plain')
        parts.append(('box', (0, -hy - 0.01, h * 0.55), (hx * 0.9, 0.012,
                                                         h * 0.35), front))
    sup = None if tall else (hx - 0.05, hy - 0.05, h)
    return parts, (hx, hy), sup, True


def _build_tv(rng, add):
    w = rng.uniform(0.5, 1.3)
    hh = w * rng.uniform(0.55, 0.62)
    th = rng.uniform(0.03, 0.08)
    body = add('tv', _neutral(rng, 0.03, 0.12, 0.02), 'plain')
    screen = add(
        'tv',
        _hsv(
            rng.uniform(0.5, 0.7), rng.uniform(0.1, 0.5),
            rng.uniform(0.05, 0.25)),
        'picture' if rng.random() < 0.3 else 'plain',
        emissive=rng.uniform(0.0, 0.4))
    stand = rng.uniform(0.05, 0.12)
    parts = [('box', (0, 0, stand + hh / 2), (w / 2, th / 2, hh / 2), body),
             ('box', (0, -th / 2 - 0.004, stand + hh / 2),
              (w / 2 - 0.03, 0.004, hh / 2 - 0.03), screen),
             ('box', (0, 0, stand / 2), (0.05, 0.05, stand / 2), body)]
    return parts, (w / 2, max(th / 2 + 0.008, 0.05)), None, True


def _build_books(rng, add):
    n = int(rng.integers(3, 11))
    parts = []
    x = 0.0
    lying = rng.random() < 0.3
    depth = rng.uniform(0.14, 0.22)
    z = 0.0
    for _ in range(n):
        sid = add('books', _saturated(rng), 'plain')
        t = rng.uniform(0.02, 0.06)
        hgt = rng.uniform(0.18, 0.3)
        if lying:  # a stack
            parts.append(
                ('box', (0, 0, z + t / 2), (hgt / 2, depth / 2, t / 2), sid))
            z += t
        else:
            parts.append(('box', (x + t / 2, 0, hgt / 2), (t / 2, depth / 2,
                                                           hgt / 2), sid))
            x += t
    if lying:
        return parts, (0.16, depth / 2), None, False
    # centre the row
    parts = [(k, (c[0] - x / 2, c[1], c[2]), h, s) for k, c, h, s in parts]
    return parts, (x / 2, depth / 2), None, False


def _build_objects(rng, add):
    parts = []
    n = int(rng.integers(1, 4))
    hx = hy = 0.05
    for k in range(n):
        sid = add(
            'objects',
            _saturated(rng) if rng.random() < 0.7 else _neutral(rng, 0.1, 0.9),
            'noise')
        ox = (k - (n - 1) / 2) * 0.3
        kind = rng.random()
        if kind < 0.35:
            r = rng.uniform(0.06, 0.2)
            parts.append(('sph', (ox, 0, r), r, sid))
            ext = r
        elif kind < 0.7:
            r = rng.uniform(0.04, 0.16)
            h = rng.uniform(0.1, 0.5)
            parts.append(('cyl', (ox, 0), 0.0, h, r, sid))
            ext = r
            if rng.random() < 0.3:  # lamp: pole + shade
                shade = add('objects', _neutral(rng, 0.6, 0.95), 'plain')
                rs = rng.uniform(0.12, 0.2)
                parts.append(('cyl', (ox, 0), h, h + rng.uniform(0.15, 0.25),
                              rs, shade))
                ext = rs
        else:
            e = rng.uniform(0.05, 0.2, 3)
            parts.append(('box', (ox, 0, e[2]), tuple(e), sid))
            ext = float(np.hypot(e[0], e[1]))
        hx = max(hx, abs(ox) + ext)
        hy = max(hy, ext)
    return parts, (hx, hy), None, False


_BUILDERS = dict(
    bed=_build_bed,
    chair=_build_chair,
    table=_build_table,
    sofa=_build_sofa,
    furniture=_build_furniture,
    tv=_build_tv,
    books=_build_books,
    objects=_build_objects)
_OBJ_CLASSES = ('bed', 'chair', 'table', 'sofa', 'furniture', 'tv', 'books',
                'objects')
_OBJ_WEIGHTS = np.array([0.8, 1.5, 1.2, 0.9, 1.4, 0.9, 1.0, 1.6])
_OBJ_ORDER = dict(
    table=0, furniture=1, bed=2, sofa=3, chair=4, tv=5, books=6, objects=7)


def _cam_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world rotation; columns are (right, down, forward)."""
    fwd = np.array([
        math.cos(pitch) * math.cos(yaw),
        math.cos(pitch) * math.sin(yaw),
        math.sin(pitch)
    ])
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, fwd], axis=1)


def _floor_point(cam: np.ndarray, rot: np.ndarray, a: float, b: float,
                 room: np.ndarray) -> Optional[np.ndarray]:
    """Floor point seen at normalised image position (a, b), if any."""
    fx, fy, cx, cy = _NYU_K
    d = rot @ np.array([(a * _NYU_HW[1] - cx) / fx,
                        (b * _NYU_HW[0] - cy) / fy, 1.0])
    if d[2] > -1e-3:
        return None
    t = -cam[2] / d[2]
    p = cam + t * d
    if not (0 < p[0] < room[0] and 0 < p[1] < room[1]):
        return None
    return p[:2]


def _sample_scene(rng: np.random.Generator) -> dict:
    """Sample a room, camera, lights and objects (size independent)."""
    room = np.array(
        [rng.uniform(3, 6),
         rng.uniform(3, 6),
         rng.uniform(2.4, 3)])
    m = 0.6
    cam = np.array([
        rng.uniform(m, room[0] - m),
        rng.uniform(m, room[1] - m),
        rng.uniform(1.0, 1.7)
    ])
    centre = room[:2] / 2
    to_c = math.atan2(centre[1] - cam[1], centre[0] - cam[0])
    if np.linalg.norm(centre - cam[:2]) < 0.5:
        to_c = rng.uniform(-np.pi, np.pi)
    yaw = to_c + rng.uniform(-1.0, 1.0)
    pitch = math.radians(rng.uniform(-35, 5))
    roll = math.radians(float(np.clip(rng.normal(0, 2), -5, 5)))
    rot = _cam_rotation(yaw, pitch, roll)

    surfaces: List[dict] = []

    def add(cls, albedo, kind='noise', emissive=0.0):
        surfaces.append(_surface(rng, cls, albedo, kind, emissive))
        return len(surfaces) - 1

    wall_kind = 'tiles' if rng.random() < 0.15 else (
        'noise' if rng.random() < 0.5 else 'plain')
    wall_col = _neutral(rng, 0.5, 0.95, 0.08) if rng.random() < 0.75 else \
        _hsv(rng.uniform(), rng.uniform(0.1, 0.4), rng.uniform(0.5, 0.9))
    s_wall = add('wall', wall_col, wall_kind)
    fk = rng.random()
    if fk < 0.45:
        s_floor = add('floor', _wood(rng), 'stripes')
    elif fk < 0.75:
        s_floor = add('floor', _neutral(rng, 0.3, 0.9), 'tiles')
    else:
        s_floor = add('floor', _muted(rng), 'noise')
    s_ceil = add('ceiling', _neutral(rng, 0.75, 0.97, 0.03), 'plain')

    # Wall rectangles: (face, u0, u1, z0, z1, surface). Faces: 0 x=0, 1 x=L,
    # 2 y=0, 3 y=L; u is y on faces 0/1 and x on faces 2/3.
    rects: List[tuple] = []
    # the wall the optical axis hits, to make windows / pictures visible
    fwd = rot[:, 2]
    ts = []
    for ax in range(2):
        if abs(fwd[ax]) < 1e-9:
            ts.append(np.inf)
        else:
            bound = room[ax] if fwd[ax] > 0 else 0.0
            ts.append((bound - cam[ax]) / fwd[ax])
    ax = int(np.argmin(ts))
    front_face = 2 * ax + int(fwd[ax] > 0)
    front_u = cam[1 - ax] + ts[ax] * fwd[1 - ax]

    def place_rect(cls,
                   w_rng,
                   h_rng,
                   zc_rng,
                   kind,
                   face=None,
                   uc=None,
                   emissive=0.0):
        for _ in range(6):
            f = int(rng.integers(0, 4)) if face is None else face
            length = room[1] if f < 2 else room[0]
            w = rng.uniform(*w_rng)
            h = rng.uniform(*h_rng)
            if w > length - 0.3:
                continue
            c = rng.uniform(w / 2 + 0.1, length - w / 2 - 0.1) \
                if uc is None else float(np.clip(uc + rng.uniform(-1, 1),
                                                 w / 2 + 0.1,
                                                 length - w / 2 - 0.1))
            zc = min(rng.uniform(*zc_rng), room[2] - h / 2 - 0.1)
            r = (f, c - w / 2, c + w / 2, zc - h / 2, zc + h / 2)
            if any(q[0] == f and q[1] < r[2] + 0.05 and r[1] < q[2] + 0.05
                   for q in rects):
                continue
            if cls == 'window':
                col = _hsv(
                    rng.uniform(0.5, 0.65), rng.uniform(0.05, 0.4),
                    rng.uniform(0.75, 1.0))
            else:
                col = _saturated(rng)
            sid = add(cls, col, kind, emissive)
            if cls == 'window':
                surfaces[sid]['hole'] = bool(rng.random() < 0.5)
            rects.append(r + (sid, ))
            return

    win = ((0.6, 1.8), (0.9, 1.5), (1.3, 1.7), 'plain')
    pic = ((0.25, 1.2), (0.25, 0.8), (1.3, 1.75), 'picture')
    if rng.random() < 0.45:
        place_rect(
            'window',
            *win,
            face=front_face,
            uc=front_u,
            emissive=rng.uniform(0.5, 0.9))
    if rng.random() < 0.5:
        place_rect('picture', *pic, face=front_face, uc=front_u)
    for _ in range(int(rng.integers(0, 3))):
        place_rect('window', *win, emissive=rng.uniform(0.5, 0.9))
    for _ in range(int(rng.integers(0, 3))):
        place_rect('picture', *pic)

    # Objects.
    n_obj = int(rng.integers(2, 9))
    classes = rng.choice(
        len(_OBJ_CLASSES), size=n_obj, p=_OBJ_WEIGHTS / _OBJ_WEIGHTS.sum())
    classes = sorted((_OBJ_CLASSES[c] for c in classes),
                     key=lambda c: _OBJ_ORDER[c])
    prims: List[tuple] = []
    placed: List[Tuple[np.ndarray, float]] = []
    supports: List[tuple] = []
    for cls in classes:
        parts, (hx, hy), sup, wall_ok = _BUILDERS[cls](rng, add)
        rad = float(np.hypot(hx, hy))
        base = 0.0
        pose = None
        on_support = cls in ('tv', 'books', 'objects') and supports and \
            rng.random() < 0.65
        if on_support:
            sx, sy, sz, sc, syaw = supports[int(rng.integers(len(supports)))]
            if hx <= sx + 0.02:
                lx = rng.uniform(-sx + hx, sx - hx) if sx > hx else 0.0
                ly = rng.uniform(-sy + hy, sy - hy) if sy > hy else 0.0
                c, s = math.cos(syaw), math.sin(syaw)
                pos = sc + np.array([c * lx - s * ly, s * lx + c * ly])
                yaw = syaw + (rng.uniform(-0.5, 0.5) if cls != 'tv' else 0.0)
                pose, base = (pos, yaw), sz
        snap_p = 0.75
        if pose is None and cls == 'tv' and rng.random() < 0.5:
            base = rng.uniform(0.8, 1.3)  # wall mounted: no stand
            wall_ok, snap_p, parts = True, 1.0, parts[:-1]
        for _ in range(12 if pose is None else 0):
            p = None
            if rng.random() < 0.85:
                p = _floor_point(cam, rot, rng.uniform(0.05, 0.95),
                                 rng.uniform(0.5, 1.0), room)
            if p is None:
                p = rng.uniform([0, 0], room[:2])
            if wall_ok and rng.random() < snap_p:
                d_w = [p[0], room[0] - p[0], p[1], room[1] - p[1]]
                f = int(np.argmin(d_w))
                gap = hy + rng.uniform(0.0, 0.05)
                yaw = (np.pi / 2, -np.pi / 2, np.pi, 0.0)[f]
                length = room[1] if f < 2 else room[0]
                if 2 * hx > length - 0.1:
                    continue
                u = float(
                    np.clip(p[1] if f < 2 else p[0], hx + 0.05,
                            length - hx - 0.05))
                pos = {
                    0: (gap, u),
                    1: (room[0] - gap, u),
                    2: (u, gap),
                    3: (u, room[1] - gap)
                }[f]
                pos = np.array(pos)
            else:
                yaw = rng.uniform(-np.pi, np.pi) if rng.random() < 0.5 else \
                    rng.integers(0, 4) * np.pi / 2
                lo = rad + 0.05
                if 2 * lo >= min(room[0], room[1]):
                    continue
                pos = np.clip(p, lo, room[:2] - lo)
            if np.linalg.norm(pos - cam[:2]) < rad + 0.4:
                continue
            if any(
                    np.linalg.norm(pos - q) < 0.7 * (rad + qr)
                    for q, qr in placed):
                continue
            pose = (pos, yaw)
            placed.append((pos, rad))
            break
        if pose is None:
            continue
        pos, yaw = pose
        c, s = math.cos(yaw), math.sin(yaw)
        for part in parts:
            kind = part[0]
            if kind == 'box':
                _, (lx, ly, lz), half, sid = part
                ctr = np.array([
                    pos[0] + c * lx - s * ly, pos[1] + s * lx + c * ly,
                    base + lz
                ])
                prims.append(('box', ctr, np.array(half, float), yaw, sid))
            elif kind == 'sph':
                _, (lx, ly, lz), r, sid = part
                ctr = np.array([
                    pos[0] + c * lx - s * ly, pos[1] + s * lx + c * ly,
                    base + lz
                ])
                prims.append(('sph', ctr, r, sid))
            else:
                _, (lx, ly), z0, z1, r, sid = part
                ctr = np.array(
                    [pos[0] + c * lx - s * ly, pos[1] + s * lx + c * ly])
                prims.append(('cyl', ctr, base + z0, base + z1, r, sid))
        if sup is not None:
            supports.append((sup[0], sup[1], base + sup[2], pos, yaw))

    light = np.array([
        rng.uniform(0.2, 0.8) * room[0],
        rng.uniform(0.2, 0.8) * room[1], room[2] - rng.uniform(0.1, 0.4)
    ])
    sun = _rand_dir(rng)
    sun[2] = -abs(sun[2])
    n_blobs = int(rng.integers(0, 5))
    return dict(
        room=room,
        cam=cam,
        rot=rot,
        surfaces=surfaces,
        faces=(s_wall, s_wall, s_wall, s_wall, s_floor, s_ceil),
        rects=rects,
        prims=prims,
        light=light,
        light_power=rng.uniform(0.6, 1.0),
        sun=sun,
        sun_power=rng.uniform(0.0, 0.35),
        ambient=rng.uniform(0.2, 0.4),
        white_balance=1 + rng.normal(0, 0.04, 3),
        exposure=rng.uniform(0.4, 0.55),
        noise_sigma=rng.uniform(1.0, 4.0),
        blobs=np.concatenate([
            rng.uniform(0, 1, (n_blobs, 2)),
            rng.uniform(0.02, 0.09, (n_blobs, 2))
        ],
                             axis=1),
        edge_shadow=bool(rng.random() < 0.5),
        noise_seed=int(rng.integers(0, 2**63 - 1)))


# ---------------------------------------------------------------------------
# Ray casting
# ---------------------------------------------------------------------------
def _screen_rect(corners: np.ndarray, cam: np.ndarray, rot: np.ndarray,
                 intr: Sequence[float], height: int,
                 width: int) -> Optional[Tuple[slice, slice]]:
    """Pixel window that holds the projection of a convex point set."""
    pc = (corners - cam) @ rot
    z = pc[:, 2]
    if np.all(z <= _NEAR):
        return None
    if np.any(z <= _NEAR):
        return slice(0, height), slice(0, width)
    fx, fy, cx, cy = intr
    u = fx * pc[:, 0] / z + cx
    v = fy * pc[:, 1] / z + cy
    u0 = max(int(math.floor(u.min())) - 1, 0)
    u1 = min(int(math.ceil(u.max())) + 2, width)
    v0 = max(int(math.floor(v.min())) - 1, 0)
    v1 = min(int(math.ceil(v.max())) + 2, height)
    if u0 >= u1 or v0 >= v1:
        return None
    return slice(v0, v1), slice(u0, u1)


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                     for z in (lo[2], hi[2])])


def _hit_box(o, dx, dy, dz, ctr, half, yaw):
    rx, ry, rz = o - ctr
    c, s = math.cos(yaw), math.sin(yaw)
    if abs(s) < 1e-12 and c > 0:
        lx, ly = dx, dy
        ox, oy = rx, ry
    else:
        lx = c * dx + s * dy
        ly = c * dy - s * dx
        ox = c * rx + s * ry
        oy = c * ry - s * rx
    tn = []
    tf = None
    for d, oo, h in ((lx, ox, half[0]), (ly, oy, half[1]), (dz, rz, half[2])):
        inv = 1.0 / d
        t1 = (-h - oo) * inv
        t2 = (h - oo) * inv
        lo = np.minimum(t1, t2)
        hi = np.maximum(t1, t2)
        tn.append(lo)
        tf = hi if tf is None else np.minimum(tf, hi)
    tnear = np.maximum(np.maximum(tn[0], tn[1]), tn[2])
    t = np.where((tnear <= tf) & (tnear > _EPS), tnear, np.inf)

    def normal():
        a0 = (tn[0] >= tn[1]) & (tn[0] >= tn[2])
        a1 = ~a0 & (tn[1] >= tn[2])
        a2 = ~(a0 | a1)
        nlx = np.where(a0, -np.sign(lx), 0.0)
        nly = np.where(a1, -np.sign(ly), 0.0)
        nz = np.where(a2, -np.sign(dz), 0.0)
        return c * nlx - s * nly, s * nlx + c * nly, nz

    return t, normal


def _hit_sphere(o, dx, dy, dz, ctr, r):
    ox, oy, oz = o - ctr
    a = dx * dx + dy * dy + dz * dz
    b = dx * ox + dy * oy + dz * oz
    cc = ox * ox + oy * oy + oz * oz - r * r
    disc = b * b - a * cc
    t = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    t = np.where((disc >= 0) & (t > _EPS), t, np.inf)

    def normal():
        return ((ox + t * dx) / r, (oy + t * dy) / r, (oz + t * dz) / r)

    return t, normal


def _hit_cylinder(o, dx, dy, dz, ctr, z0, z1, r):
    ox, oy = o[0] - ctr[0], o[1] - ctr[1]
    oz = o[2]
    a = dx * dx + dy * dy
    b = dx * ox + dy * oy
    cc = ox * ox + oy * oy - r * r
    disc = b * b - a * cc
    ts = (-b - np.sqrt(np.maximum(disc, 0.0))) / a
    zs = oz + ts * dz
    ts = np.where((disc >= 0) & (ts > _EPS) & (zs >= z0) & (zs <= z1), ts,
                  np.inf)
    inv = 1.0 / dz
    caps = []
    for zc in (z1, z0):
        tc = (zc - oz) * inv
        px = ox + tc * dx
        py = oy + tc * dy
        caps.append(
            np.where((tc > _EPS) & (px * px + py * py <= r * r), tc, np.inf))
    t = np.minimum(ts, np.minimum(caps[0], caps[1]))

    def normal():
        side = ts <= t
        top = ~side & (caps[0] <= t)
        nx = np.where(side, (ox + t * dx) / r, 0.0)
        ny = np.where(side, (oy + t * dy) / r, 0.0)
        nz = np.where(side, 0.0, np.where(top, 1.0, -1.0))
        return nx, ny, nz

    return t, normal


def _render_scene(scene: dict, height: int, width: int,
                  depth_holes: bool) -> dict:
    intr = nyu_intrinsics(height, width)
    fx, fy, cx, cy = intr
    rot, o, room = scene['rot'], scene['cam'], scene['room']
    xs = ((np.arange(width) - cx) / fx)[None, :]
    ys = ((np.arange(height) - cy) / fy)[:, None]
    # world ray directions with unit z in the camera frame: t is z-depth
    dx = rot[0, 0] * xs + rot[0, 1] * ys + rot[0, 2]
    dy = rot[1, 0] * xs + rot[1, 1] * ys + rot[1, 2]
    dz = rot[2, 0] * xs + rot[2, 1] * ys + rot[2, 2]
    d = (dx, dy, dz)

    # Room box, seen from inside.
    tax = []
    for ax in range(3):
        bound = np.where(d[ax] > 0, room[ax], 0.0)
        ta = (bound - o[ax]) / d[ax]
        ta[d[ax] == 0] = np.inf
        tax.append(ta)
    is_x = (tax[0] <= tax[1]) & (tax[0] <= tax[2])
    is_y = ~is_x & (tax[1] <= tax[2])
    is_z = ~(is_x | is_y)
    t = np.minimum(np.minimum(tax[0], tax[1]), tax[2])
    face = np.where(is_x, (dx > 0).astype(np.int8),
                    np.where(is_y, 2 + (dy > 0), 4 + (dz > 0)))
    faces = np.asarray(scene['faces'], np.int32)
    sid = faces[face]
    nx = np.where(is_x, -np.sign(dx), 0.0)
    ny = np.where(is_y, -np.sign(dy), 0.0)
    nz = np.where(is_z, -np.sign(dz), 0.0)

    # Windows and pictures: rectangles on the walls.
    for f, u0, u1, z0, z1, rsid in scene['rects']:
        if f < 2:
            xw = 0.0 if f == 0 else room[0]
            lo, hi = np.array([xw, u0, z0]), np.array([xw, u1, z1])
        else:
            yw = 0.0 if f == 2 else room[1]
            lo, hi = np.array([u0, yw, z0]), np.array([u1, yw, z1])
        win = _screen_rect(_box_corners(lo, hi), o, rot, intr, height, width)
        if win is None:
            continue
        tt = t[win]
        u = o[1] + tt * dy[win] if f < 2 else o[0] + tt * dx[win]
        zz = o[2] + tt * dz[win]
        m = (face[win] == f) & (u >= u0) & (u <= u1) & (zz >= z0) & (zz <= z1)
        sid[win][m] = rsid

    # Objects.
    for prim in scene['prims']:
        kind = prim[0]
        if kind == 'box':
            _, ctr, half, yaw, psid = prim
            c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
            ext = np.array([
                c * half[0] + s * half[1], s * half[0] + c * half[1], half[2]
            ])
            lo, hi = ctr - ext, ctr + ext
        elif kind == 'sph':
            _, ctr, r, psid = prim
            lo, hi = ctr - r, ctr + r
        else:
            _, ctr, z0, z1, r, psid = prim
            lo = np.array([ctr[0] - r, ctr[1] - r, z0])
            hi = np.array([ctr[0] + r, ctr[1] + r, z1])
        win = _screen_rect(_box_corners(lo, hi), o, rot, intr, height, width)
        if win is None:
            continue
        wdx, wdy, wdz = dx[win], dy[win], dz[win]
        if kind == 'box':
            tt, normal = _hit_box(o, wdx, wdy, wdz, ctr, half, yaw)
        elif kind == 'sph':
            tt, normal = _hit_sphere(o, wdx, wdy, wdz, ctr, r)
        else:
            tt, normal = _hit_cylinder(o, wdx, wdy, wdz, ctr, z0, z1, r)
        m = tt < t[win]
        if not m.any():
            continue
        pnx, pny, pnz = normal()
        np.copyto(t[win], tt, where=m)
        np.copyto(nx[win], pnx, where=m)
        np.copyto(ny[win], pny, where=m)
        np.copyto(nz[win], pnz, where=m)
        sid[win][m] = psid

    # Face the camera.
    flip = nx * dx + ny * dy + nz * dz > 0
    nx = np.where(flip, -nx, nx)
    ny = np.where(flip, -ny, ny)
    nz = np.where(flip, -nz, nz)
    inv_n = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz)
    nx, ny, nz = nx * inv_n, ny * inv_n, nz * inv_n

    # Per-surface tables, gathered once per pixel (rows of ``g``).
    surf = scene['surfaces']
    cls = np.array([s['cls'] for s in surf], np.uint8)
    semantic = cls[sid]
    params = np.array([
        np.concatenate([
            s['k1'], s['k2'], s['k3'], s['ph1'], s['ph2'], s['albedo'],
            [
                s['a1'], s['a2'], 1.0 / s['chk_scale'], s['chk_amp'],
                s['emissive']
            ]
        ]) for s in surf
    ], np.float32)
    g = np.take(params.T, sid, axis=1)

    # Shading (float32).
    f32 = np.float32
    nx, ny, nz = nx.astype(f32), ny.astype(f32), nz.astype(f32)
    t32 = t.astype(f32)
    px = f32(o[0]) + t32 * dx.astype(f32)
    py = f32(o[1]) + t32 * dy.astype(f32)
    pz = f32(o[2]) + t32 * dz.astype(f32)
    light = scene['light'].astype(f32)
    lx, ly, lz = light[0] - px, light[1] - py, light[2] - pz
    dist2 = lx * lx + ly * ly + lz * lz
    lam = np.maximum(nx * lx + ny * ly + nz * lz, 0) / np.sqrt(dist2)
    sun = scene['sun'].astype(f32)
    shade = (
        f32(scene['ambient']) + f32(scene['light_power']) * lam /
        (1 + f32(0.06) * dist2) + f32(scene['sun_power']) *
        np.maximum(-(nx * sun[0] + ny * sun[1] + nz * sun[2]), 0))
    emis = g[21]
    shade = shade * (1 - emis) + emis * f32(1.6)

    two_pi = f32(2 * np.pi)
    arg1 = two_pi * (px * g[0] + py * g[1] + pz * g[2])
    blot = np.sin(two_pi * (px * g[3] + py * g[4] + pz * g[5]) + g[12])
    blot *= np.sin(two_pi * (px * g[6] + py * g[7] + pz * g[8]) + g[13])
    common = g[18] * blot
    if np.any(params[:, 20] > 0):
        inv = g[19]
        parity = (np.floor(px * inv) + np.floor(py * inv) +
                  np.floor(pz * inv)) % 2
        common += g[20] * (1 - 2 * parity)
    common += 1
    mean_lin = float(np.mean(shade * (g[14] + g[15] + g[16]))) / 3
    gain = float(
        np.clip(255.0 * scene['exposure'] / max(mean_lin, 0.05), 100, 1200))
    wb = scene['white_balance']
    image = np.empty((height, width, 3), f32)
    for ch in range(3):
        tex = common + g[17] * np.sin(arg1 + g[9 + ch])
        image[..., ch] = g[14 + ch] * tex * shade * f32(gain * wb[ch])
    nrng = np.random.default_rng(scene['noise_seed'])
    image += nrng.standard_normal(image.shape, f32) * f32(scene['noise_sigma'])
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)

    depth = t.astype(np.float32)
    normal = np.stack([
        rot[0, 0] * nx + rot[1, 0] * ny + rot[2, 0] * nz,
        rot[0, 1] * nx + rot[1, 1] * ny + rot[2, 1] * nz,
        rot[0, 2] * nx + rot[1, 2] * ny + rot[2, 2] * nz
    ],
                      axis=-1).astype(np.float32)

    if depth_holes:
        invalid = ~(depth <= MAX_VALID_DEPTH)
        hole_sids = [i for i, s in enumerate(surf) if s['hole']]
        if hole_sids:
            invalid |= np.isin(sid, hole_sids)
        vv = (np.arange(height)[:, None] + 0.5) / height
        uu = (np.arange(width)[None, :] + 0.5) / width
        for bu, bv, ru, rv in scene['blobs']:
            invalid |= ((uu - bu) / ru)**2 + ((vv - bv) / rv)**2 <= 1.0
        if scene['edge_shadow']:
            # Kinect-like shadow: the far side of a depth edge.
            jump = depth[:, 1:] - depth[:, :-1]
            invalid[:, 1:] |= jump > 0.25
            invalid[:, :-1] |= jump < -0.25
        depth[invalid] = 0.0
        normal[invalid] = 0.0
    return dict(
        image=image,
        semantic=semantic,
        depth=depth,
        normal=normal,
        saliency=_SALIENT_LUT[semantic])


def render_room(rng: np.random.Generator,
                height: int,
                width: int,
                depth_holes: bool = True) -> Dict[str, np.ndarray]:
    """Sample one random room and render it with exact ground truth.

    The scene (room, camera, objects, lights, hole blobs) is drawn from
    ``rng`` independently of the image size, so the same generator state
    renders the same scene at any resolution; ``depth_holes`` only masks
    the labels, the RGB image does not depend on it.

    Args:
        rng (np.random.Generator): Random generator, e.g.
            ``np.random.default_rng([seed, index])``.
        height (int): Image height in pixels.
        width (int): Image width in pixels.
        depth_holes (bool): Add Kinect-like invalid depth: a few blobs,
            pixels beyond :data:`MAX_VALID_DEPTH`, glass windows (half of
            them) and, in half the images, the far side of depth edges.
            Defaults to True.

    Returns:
        dict[str, np.ndarray]:

        - ``image``: uint8 (H, W, 3) RGB.
        - ``semantic``: uint8 (H, W) NYUv2-13 class ids 1..13.
        - ``depth``: float32 (H, W) z-depth in metres, 0 = invalid.
        - ``normal``: float32 (H, W, 3) unit normals in the camera frame
          (x right, y down, z forward) facing the camera, zero vector where
          invalid (the same pixels as invalid depth).
        - ``saliency``: uint8 (H, W), 1 on object pixels (classes not in
          :data:`ROOM_STRUCTURE_CLASSES`), 0 on room structure.
    """
    if height < 1 or width < 1:
        raise ValueError(f'image size must be positive, got {height}x{width}')
    scene = _sample_scene(rng)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        return _render_scene(scene, int(height), int(width), depth_holes)


# ---------------------------------------------------------------------------
# Writing the data set
# ---------------------------------------------------------------------------
def _save_png(path: str, arr: np.ndarray) -> None:
    Image.fromarray(arr).save(path, compress_level=1)


def generate_synthetic_rooms(out_dir: str,
                             num: int,
                             size: Union[Sequence[int], int] = (96, 128),
                             seed: int = 0,
                             test_fraction: float = 0.25,
                             depth_holes: bool = True,
                             start: int = 0) -> dict:
    """Render ``num`` synthetic rooms to disk in the NYUv2 toolkit layout.

    Layout under ``out_dir`` (``NNNNN`` is the global image index, so file
    names are unique across splits)::

        image/{train,test}/NNNNN.png     RGB uint8
        seg13/{train,test}/NNNNN.png     uint8 class id 1..13 (0 = unlabelled)
        depth/{train,test}/NNNNN.png     uint16 millimetres (0 = invalid)
        normal/{train,test}/NNNNN.png    RGB, n = rgb / 255 * 2 - 1;
                                         (0, 0, 0) = invalid normal
        saliency/{train,test}/NNNNN.png  uint8 0 / 255
        meta.json

    Image ``i`` is rendered from ``np.random.default_rng([seed, i])`` and
    its split is :func:`is_test_index` ``(i, test_fraction)``, so image
    ``i`` and its split do not depend on ``num``: a smaller data set is a
    prefix of a larger one.

    Args:
        out_dir (str): Output root (created if missing).
        num (int): Number of images (>= 1).
        size (Sequence[int] | int): ``(height, width)`` or one int for a
            square image. Defaults to (96, 128).
        seed (int): Data set seed. Defaults to 0.
        test_fraction (float): Fraction of test images in [0, 1].
            Defaults to 0.25.
        depth_holes (bool): Add Kinect-like depth holes (see
            :func:`render_room`). Defaults to True.
        start (int): First global index, to render a data set in chunks.
            Defaults to 0.

    Returns:
        dict: Summary with ``out_dir``, ``num``, ``size``, ``seed``,
        ``train`` and ``test`` counts, ``seconds`` and ``images_per_s``.
    """
    if isinstance(size, int):
        size = (size, size)
    height, width = (int(s) for s in size)
    if height < 1 or width < 1:
        raise ValueError(f'size must be positive, got {size}')
    if num < 1:
        raise ValueError(f'num must be >= 1, got {num}')
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f'test_fraction must be in [0, 1], got '
                         f'{test_fraction}')
    tasks = ('image', 'seg13', 'depth', 'normal', 'saliency')
    for task in tasks:
        for split in ('train', 'test'):
            os.makedirs(osp.join(out_dir, task, split), exist_ok=True)
    counts = dict(train=0, test=0)
    tic = time.perf_counter()
    for i in range(start, start + num):
        sample = render_room(
            np.random.default_rng([seed, i]), height, width, depth_holes)
        split = 'test' if is_test_index(i, test_fraction) else 'train'
        counts[split] += 1
        name = f'{i:05d}.png'
        _save_png(osp.join(out_dir, 'image', split, name), sample['image'])
        _save_png(osp.join(out_dir, 'seg13', split, name), sample['semantic'])
        _save_png(
            osp.join(out_dir, 'depth', split, name),
            encode_depth(sample['depth']))
        _save_png(
            osp.join(out_dir, 'normal', split, name),
            encode_normal(sample['normal']))
        _save_png(
            osp.join(out_dir, 'saliency', split, name),
            sample['saliency'] * np.uint8(255))
    seconds = time.perf_counter() - tic
    fx, fy, cx, cy = nyu_intrinsics(height, width)
    meta = dict(
        generator='had_mm.datasets.synthetic_rooms',
        version=GENERATOR_VERSION,
        seed=int(seed),
        size=[height, width],
        num=int(num),
        start=int(start),
        counts=counts,
        test_fraction=float(test_fraction),
        split_rule='test iff is_test_index(index, test_fraction)',
        depth_holes=bool(depth_holes),
        classes=list(NYUV2_13_CLASSES),
        palette=[list(c) for c in NYUV2_13_PALETTE],
        class_ids='seg13 value k in 1..13 is classes[k - 1]; 0 = unlabelled',
        salient_classes=list(SALIENT_CLASSES),
        intrinsics=dict(fx=fx, fy=fy, cx=cx, cy=cy),
        camera_frame='x right, y down, z forward (OpenCV)',
        depth_encoding='uint16 PNG, millimetres, 0 = invalid',
        normal_encoding='RGB PNG, n = rgb / 255 * 2 - 1, unit normal in the '
        'camera frame facing the camera; (0, 0, 0) = invalid',
        saliency_encoding='PNG 0 / 255, 255 = object (not room structure)')
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return dict(
        out_dir=out_dir,
        num=int(num),
        size=(height, width),
        seed=int(seed),
        train=counts['train'],
        test=counts['test'],
        seconds=seconds,
        images_per_s=num / max(seconds, 1e-9))
