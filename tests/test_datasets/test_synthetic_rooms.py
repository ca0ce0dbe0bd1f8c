# Copyright (c) had_mm contributors. All rights reserved.
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from had_mm.datasets import synthetic_rooms as sr

KEYS = ('image', 'semantic', 'depth', 'normal', 'saliency')
TASK_DIRS = ('image', 'seg13', 'depth', 'normal', 'saliency')


def _render(seed, index, hw=(48, 64), depth_holes=True):
    return sr.render_room(
        np.random.default_rng([seed, index]), *hw, depth_holes)


@pytest.fixture(scope='module')
def samples():
    """200 renders at 48 x 64 (with holes), shared by several tests."""
    return [_render(0, i) for i in range(200)]


def _read(path):
    return np.array(Image.open(path))


def test_output_types_and_shapes():
    s = _render(1, 2, (30, 40))
    assert set(s) == set(KEYS)
    assert s['image'].shape == (30, 40, 3) and s['image'].dtype == np.uint8
    assert s['semantic'].shape == (30, 40) and s['semantic'].dtype == np.uint8
    assert s['depth'].shape == (30, 40) and s['depth'].dtype == np.float32
    assert s['normal'].shape == (30, 40, 3)
    assert s['normal'].dtype == np.float32
    assert s['saliency'].shape == (30, 40)
    assert s['saliency'].dtype == np.uint8
    with pytest.raises(ValueError):
        sr.render_room(np.random.default_rng(0), 0, 10)


def test_determinism():
    a, b = _render(7, 3), _render(7, 3)
    for k in KEYS:
        np.testing.assert_array_equal(a[k], b[k])
    c, d = _render(8, 3), _render(7, 4)
    assert not np.array_equal(a['image'], c['image'])
    assert not np.array_equal(a['depth'], c['depth'])
    assert not np.array_equal(a['image'], d['image'])
    # holes only mask labels: the RGB and the semantics do not change
    e = _render(7, 3, depth_holes=False)
    np.testing.assert_array_equal(a['image'], e['image'])
    np.testing.assert_array_equal(a['semantic'], e['semantic'])
    valid = a['depth'] > 0
    np.testing.assert_array_equal(a['depth'][valid], e['depth'][valid])


def test_labels_valid(samples):
    n_holes = 0
    for s in samples:
        depth, normal, sem = s['depth'], s['normal'], s['semantic']
        assert np.all(np.isfinite(depth)) and np.all(depth >= 0)
        valid = depth > 0
        n_holes += int((~valid).any())
        assert valid.mean() > 0.3
        assert depth[valid].min() > 0.05 and depth.max() < 20
        # normals: unit where depth is valid, zero elsewhere
        norm = np.linalg.norm(normal, axis=-1)
        np.testing.assert_allclose(norm[valid], 1.0, atol=1e-4)
        assert np.all(norm[~valid] == 0)
        assert sem.min() >= 1 and sem.max() <= 13
    assert n_holes > 50  # holes are common ...
    for i in range(5):  # ... and absent on request
        s = _render(0, i, depth_holes=False)
        assert np.all(s['depth'] > 0)
        norm = np.linalg.norm(s['normal'], axis=-1)
        np.testing.assert_allclose(norm, 1.0, atol=1e-4)


def test_normals_face_camera(samples):
    fx, fy, cx, cy = sr.nyu_intrinsics(48, 64)
    v, u = np.mgrid[0:48, 0:64]
    ray = np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u, float)], -1)
    for s in samples[:50]:
        valid = s['depth'] > 0
        dot = (s['normal'] * ray).sum(-1)
        assert np.all(dot[valid] < 1e-6)


def _normals_from_depth(depth, intrinsics):
    """Central-difference normals of the back-projected depth (interior)."""
    fx, fy, cx, cy = intrinsics
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w]
    pts = np.stack([(u - cx) / fx * depth, (v - cy) / fy * depth, depth],
                   axis=-1).astype(np.float64)
    du = pts[1:-1, 2:] - pts[1:-1, :-2]
    dv = pts[2:, 1:-1] - pts[:-2, 1:-1]
    n = np.cross(du, dv)
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    centre = pts[1:-1, 1:-1]
    flip = (n * centre).sum(-1) > 0
    n[flip] *= -1
    return n


def _uniform_3x3(label, valid):
    """Interior pixels whose 3 x 3 window has one label and valid depth."""
    h, w = label.shape
    c = label[1:-1, 1:-1]
    ok = valid[1:-1, 1:-1].copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            win = (slice(1 + dy, h - 1 + dy), slice(1 + dx, w - 1 + dx))
            ok &= (label[win] == c) & valid[win]
    return ok


@pytest.mark.parametrize('depth_holes', [False, True])
def test_normals_agree_with_depth(depth_holes):
    hw = (96, 128)
    intr = sr.nyu_intrinsics(*hw)
    angles = []
    for i in range(12):
        s = _render(5, i, hw, depth_holes)
        valid = s['depth'] > 0
        ok = _uniform_3x3(s['semantic'], valid)
        n_depth = _normals_from_depth(s['depth'], intr)
        n_gt = s['normal'][1:-1, 1:-1].astype(np.float64)
        cos = np.clip((n_depth * n_gt).sum(-1)[ok], -1, 1)
        angles.append(np.degrees(np.arccos(cos)))
    angles = np.concatenate(angles)
    assert angles.size > 50000
    # exact geometry: planar pixels agree to a small fraction of a degree
    # (a range-instead-of-z depth, a mirrored or world-frame normal, or a
    # 2-pixel shift of the principal point all fail)
    assert np.median(angles) < 0.1
    assert np.percentile(angles, 75) < 1.0


def test_saliency_is_object_classes(samples):
    structure = [
        sr.NYUV2_13_CLASSES.index(c) + 1 for c in sr.ROOM_STRUCTURE_CLASSES
    ]
    assert sorted(
        sr.ROOM_STRUCTURE_CLASSES) == ['ceiling', 'floor', 'wall', 'window']
    n_salient = 0
    for s in samples:
        expected = ~np.isin(s['semantic'], structure)
        np.testing.assert_array_equal(s['saliency'], expected.astype(np.uint8))
        n_salient += int(expected.any())
    assert n_salient > 150


def test_all_classes_appear(samples):
    seen = np.zeros(14, np.int64)
    for s in samples:
        seen += np.bincount(s['semantic'].ravel(), minlength=14) > 0
    assert seen[0] == 0
    missing = [
        sr.NYUV2_13_CLASSES[k - 1] for k in range(1, 14) if seen[k] < 10
    ]
    assert not missing, f'classes in fewer than 10 of 200 images: {missing}'
    assert seen[sr.NYUV2_13_CLASSES.index('wall') + 1] > 150


def test_split_rule():
    assert sr.is_test_index(0, 0.25) and not sr.is_test_index(1, 0.25)
    assert sum(sr.is_test_index(i, 0.25) for i in range(1000)) == 250
    assert sum(sr.is_test_index(i, 0.3) for i in range(1000)) == 300
    assert not any(sr.is_test_index(i, 0.0) for i in range(10))
    assert all(sr.is_test_index(i, 1.0) for i in range(10))


def test_normal_codec():
    n = np.zeros((2, 3, 3), np.float32)
    n[0, 0] = (-1, 0, 0)
    n[0, 1] = np.array([1, -2, -3]) / np.sqrt(14)
    n[1, 2] = (0, 0, -1)
    rgb = sr.encode_normal(n)
    assert tuple(rgb[0, 2]) == (0, 0, 0) and tuple(rgb[1, 0]) == (0, 0, 0)
    assert tuple(rgb[0, 0]) == (0, 128, 128)
    dec, valid = sr.decode_normal(rgb)
    np.testing.assert_array_equal(valid,
                                  [[True, True, False], [False, False, True]])
    np.testing.assert_allclose(dec[valid], n[valid], atol=1.5 / 127)
    assert np.all(dec[~valid] == 0)


def test_disk_layout_roundtrip(tmp_path):
    hw = (48, 64)
    out_a = str(tmp_path / 'a')
    out_b = str(tmp_path / 'b')
    summary = sr.generate_synthetic_rooms(
        out_a, 3, hw, seed=4, test_fraction=0.5)
    sr.generate_synthetic_rooms(out_b, 6, hw, seed=4, test_fraction=0.5)
    assert summary['train'] + summary['test'] == 3
    assert summary['test'] == 2  # indices 0 and 2
    meta = json.load(open(osp.join(out_a, 'meta.json')))
    assert meta['classes'] == list(sr.NYUV2_13_CLASSES)
    assert meta['counts'] == dict(train=1, test=2)
    assert meta['size'] == list(hw) and meta['seed'] == 4
    for i in range(3):
        split = 'test' if sr.is_test_index(i, 0.5) else 'train'
        name = f'{i:05d}.png'
        ref = sr.render_room(np.random.default_rng([4, i]), *hw)
        files = {t: osp.join(out_a, t, split, name) for t in TASK_DIRS}
        # image i does not depend on num
        for t in TASK_DIRS:
            np.testing.assert_array_equal(
                _read(files[t]), _read(osp.join(out_b, t, split, name)))
        np.testing.assert_array_equal(_read(files['image']), ref['image'])
        np.testing.assert_array_equal(_read(files['seg13']), ref['semantic'])
        sal = _read(files['saliency'])
        assert set(np.unique(sal)) <= {0, 255}
        np.testing.assert_array_equal(sal // 255, ref['saliency'])
        depth_png = _read(files['depth'])
        assert depth_png.dtype in (np.uint16, np.int32)
        depth = sr.decode_depth(depth_png)
        np.testing.assert_array_equal(depth > 0, ref['depth'] > 0)
        np.testing.assert_allclose(depth, ref['depth'], atol=5.01e-4)
        rgb = _read(files['normal'])
        assert rgb.shape == hw + (3, ) and rgb.dtype == np.uint8
        raw = rgb.astype(np.float32) / 255 * 2 - 1
        valid = rgb.any(-1)
        np.testing.assert_array_equal(valid, ref['depth'] > 0)
        np.testing.assert_allclose(
            raw[valid], ref['normal'][valid], atol=1.0 / 127)
        dec, dvalid = sr.decode_normal(rgb)
        np.testing.assert_array_equal(dvalid, valid)


def _load_cli():
    path = osp.join(
        osp.dirname(__file__), '..', '..', 'tools', 'data',
        'make_synthetic_rooms.py')
    spec = importlib.util.spec_from_file_location('make_synthetic_rooms', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli(tmp_path, capsys):
    cli = _load_cli()
    out = str(tmp_path / 'rooms')
    cli.main([
        '--out', out, '--num', '2', '--size', '24', '32', '--seed', '1',
        '--no-depth-holes'
    ])
    text = capsys.readouterr().out
    assert 'images/s' in text
    assert osp.isfile(osp.join(out, 'depth', 'test', '00000.png'))
    assert osp.isfile(osp.join(out, 'normal', 'train', '00001.png'))
    assert _read(osp.join(out, 'depth', 'train', '00001.png')).min() > 0
    for bad in (['--num', '1', '--size', '24',
                 '32'], ['--num', '4', '--size', '0', '32']):
        with pytest.raises(SystemExit) as exc:
            cli.main(['--out', out] + bad)
        assert exc.value.code == 2
