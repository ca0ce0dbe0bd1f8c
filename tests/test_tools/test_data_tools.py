"""Data tools: the NYUv2 .mat converter, derive_saliency, browse_dataset."""
import importlib.util
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image
from tool_runner import REPO, run_tool

from had_mm.datasets import (NYUV2_13_CLASSES, NYUV2_40_CLASSES,
                             NYUv2MultiTaskDataset)
from had_mm.datasets.saliency_from_semantic import (ROOM_STRUCTURE_CLASSES_13,
                                                    ROOM_STRUCTURE_CLASSES_40,
                                                    salient_class_lut)

CONVERT = 'tools/data/convert_nyuv2_mat.py'
DERIVE = 'tools/data/derive_saliency.py'
BROWSE = 'tools/analysis/browse_dataset.py'
LOAD = [dict(type='LoadMultiTaskImage'), dict(type='LoadMultiTaskAnnotations')]

# A fake 894 -> 40 mapping that also maps some classes to 0 (unlabelled).
MAP40 = (np.arange(1, 895) * 7) % 41
LUT40 = np.concatenate([[0], MAP40]).astype(np.uint8)  # indexed by raw id
SPLIT = {'train': [1, 3], 'test': [2]}  # 1-based, as in splits.mat


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('had_mm')


def _load_tool(relpath: str):
    name = '_tool_' + osp.splitext(osp.basename(relpath))[0]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name,
                                                      osp.join(REPO, relpath))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def _fake_nyuv2(n: int = 3, h: int = 6, w: int = 8):
    """Arrays as in nyu_depth_v2_labeled.mat (MATLAB order) and as HxW."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    depths = rng.uniform(0.5, 9.5, (n, h, w)).astype(np.float32)
    labels = rng.integers(0, 895, (n, h, w)).astype(np.uint16)
    labels[:, 0, 0] = 0  # unlabelled
    mat = dict(
        images=images.transpose(0, 3, 2, 1),
        depths=depths.transpose(0, 2, 1),
        labels=labels.transpose(0, 2, 1))
    return mat, (images, depths, labels)


class _FakeMat:

    def close(self):
        pass


def _convert_in_process(monkeypatch, root: str, normals: bool = False):
    """Run the converter's code on the fake arrays, without h5py."""
    conv = _load_tool(CONVERT)
    mat, hw = _fake_nyuv2()
    monkeypatch.setattr(
        conv,
        'open_labelled_mat',
        lambda path, key='depths':
        (_FakeMat(), mat['images'], mat[key], mat['labels']))
    counts = conv.convert(
        'fake.mat', root, dict(SPLIT), LUT40, normals=normals)
    assert counts == {'train': 2, 'test': 1}
    return hw


def _check_roundtrip(root: str, hw) -> None:
    images, depths, labels = hw
    to13 = _load_tool(CONVERT).NYUV2_40_TO_13
    seg40_all = LUT40[labels]
    for num_classes in (13, 40):
        for split, indices in SPLIT.items():
            ds = NYUv2MultiTaskDataset(
                root,
                split=split,
                tasks=['semantic', 'depth'],
                num_classes=num_classes,
                pipeline=LOAD)
            assert ds.layout == 'toolkit'
            assert [ds.get_data_info(k)['sample_id']
                    for k in range(len(ds))] == [f'{i:05d}' for i in indices]
            for k, index in enumerate(indices):
                res = ds[k]
                np.testing.assert_array_equal(res['img'][..., ::-1],
                                              images[index - 1])
                seg = seg40_all[index - 1]
                if num_classes == 13:
                    seg = to13[seg]
                np.testing.assert_array_equal(res['gt_seg_map'],
                                              np.where(seg == 0, 255, seg - 1))
                np.testing.assert_allclose(
                    res['gt_depth_map'], depths[index - 1], atol=1e-3)


# ---------------------------------------------------------------------------
# convert_nyuv2_mat.py
# ---------------------------------------------------------------------------
def test_forty_to_thirteen_table_matches_class_names():
    to13 = _load_tool(CONVERT).NYUV2_40_TO_13
    assert len(to13) == 41 and to13[0] == 0 and set(to13[1:]) == set(
        range(1, 14))
    same = {'television': 'tv'}
    for c40, name in enumerate(NYUV2_40_CLASSES, 1):
        name = same.get(name, name)
        if name in NYUV2_13_CLASSES:
            assert NYUV2_13_CLASSES[to13[c40] - 1] == name
    # The 40-class saliency rule is the 13-class rule through this table.
    structure = {
        n
        for c, n in enumerate(NYUV2_40_CLASSES, 1)
        if NYUV2_13_CLASSES[to13[c] - 1] in ROOM_STRUCTURE_CLASSES_13
    }
    assert structure == set(ROOM_STRUCTURE_CLASSES_40)


def test_convert_roundtrip_without_h5py(monkeypatch, tmp_path):
    root = str(tmp_path / 'nyuv2')
    hw = _convert_in_process(monkeypatch, root, normals=True)
    _check_roundtrip(root, hw)
    assert len(os.listdir(osp.join(root, 'normal', 'train'))) == 2
    meta = json.load(open(osp.join(root, 'conversion.json')))
    assert meta['counts'] == {'train': 2, 'test': 1}


def test_split_and_mapping_files(tmp_path):
    from scipy.io import savemat
    conv = _load_tool(CONVERT)
    savemat(tmp_path / 'splits.mat',
            dict(trainNdxs=np.array([[1], [3]]), testNdxs=np.array([[2]])))
    assert conv.load_split(3, splits_mat=str(tmp_path / 'splits.mat')) == \
        SPLIT
    (tmp_path / 'split.json').write_text(json.dumps(SPLIT))
    assert conv.load_split(3, split_json=str(tmp_path / 'split.json')) == \
        SPLIT
    (tmp_path / 'bad.json').write_text('{"train": [0, 1], "test": [2]}')
    with pytest.raises(conv.ConversionError, match='1-based'):
        conv.load_split(3, split_json=str(tmp_path / 'bad.json'))
    savemat(tmp_path / 'map.mat', dict(mapClass=MAP40[None]))
    np.save(tmp_path / 'map.npy', np.concatenate([[0], MAP40]))
    (tmp_path / 'map.json').write_text(json.dumps(MAP40.tolist()))
    for name in ('map.mat', 'map.npy', 'map.json'):
        lut = conv.load_mapping(str(tmp_path / name))
        np.testing.assert_array_equal(lut[1:], MAP40)
        assert lut[0] == 0
    with pytest.raises(conv.ConversionError, match='has no "mapClass"'):
        conv.load_mapping(str(tmp_path / 'splits.mat'))


def test_convert_cli_errors(tmp_path):
    from scipy.io import savemat
    savemat(tmp_path / 'v5.mat', dict(images=np.zeros((2, 2))))
    common = ['--split-json', 'x.json', '--mapping', 'm.npy', '--out', 'o']
    proc = run_tool([sys.executable, CONVERT,
                     str(tmp_path / 'missing.mat')] + common)
    assert proc.returncode == 2, proc.stderr
    assert 'missing.mat" does not exist' in proc.stderr
    assert 'Traceback' not in proc.stderr
    proc = run_tool([sys.executable, CONVERT,
                     str(tmp_path / 'v5.mat')] + common)
    assert proc.returncode == 2, proc.stderr
    assert 'is not an HDF5 file (it is a MATLAB v5 .mat file)' in proc.stderr


def _write_h5(path: str, mat: dict, skip=()) -> None:
    h5py = pytest.importorskip('h5py')
    with h5py.File(path, 'w') as f:
        for key, value in mat.items():
            if key not in skip:
                f.create_dataset(key, data=value)


def test_convert_cli_on_hdf5(tmp_path):
    pytest.importorskip('h5py')
    from scipy.io import savemat
    mat, hw = _fake_nyuv2()
    _write_h5(str(tmp_path / 'nyu.mat'), mat)
    savemat(tmp_path / 'splits.mat',
            dict(trainNdxs=np.array([[1], [3]]), testNdxs=np.array([[2]])))
    savemat(tmp_path / 'classMapping40.mat', dict(mapClass=MAP40[None]))
    root = str(tmp_path / 'nyuv2')
    proc = run_tool([
        sys.executable, CONVERT,
        str(tmp_path / 'nyu.mat'), '--splits',
        str(tmp_path / 'splits.mat'), '--mapping',
        str(tmp_path / 'classMapping40.mat'), '--out', root
    ])
    assert proc.returncode == 0, proc.stderr
    _check_roundtrip(root, hw)
    # A file without "labels": the error lists the keys found.
    _write_h5(str(tmp_path / 'nolabels.mat'), mat, skip=('labels', ))
    proc = run_tool([
        sys.executable, CONVERT,
        str(tmp_path / 'nolabels.mat'), '--splits',
        str(tmp_path / 'splits.mat'), '--mapping',
        str(tmp_path / 'classMapping40.mat'), '--out', root
    ])
    assert proc.returncode == 2
    assert 'no dataset "labels"; keys found: depths, images' in proc.stderr


def test_normals_from_depth_on_a_plane():
    conv = _load_tool(CONVERT)
    h, w = 6, 8
    fx, fy, cx, cy = conv.nyu_intrinsics(h, w)
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    rays = np.stack(
        [(u - cx) / fx,
         (v - cy) / fy, np.ones_like(u, float)], axis=-1)
    for normal in ([0.2, -0.4, -1.0], [0.0, 0.0, -1.0], [-0.6, 0.3, -0.5]):
        n = np.array(normal) / np.linalg.norm(normal)
        depth = -2.0 / (rays @ n)  # the plane n . X = -2, facing the camera
        assert np.all(depth > 0)
        est = conv.normals_from_depth(depth, (fx, fy, cx, cy))
        np.testing.assert_allclose(
            est, np.broadcast_to(n, est.shape), atol=1e-5)
        est = conv.normals_from_depth(depth, (fx, fy, cx, cy), step=2)
        np.testing.assert_allclose(est[2, 3], n, atol=1e-5)
    depth[2, 3] = 0  # a hole: it and its 4 neighbours have no normal
    est = conv.normals_from_depth(depth, (fx, fy, cx, cy))
    invalid = ~np.any(est != 0, axis=-1)
    assert invalid.sum() == 5 and invalid[2, 3] and invalid[1, 3]
    np.testing.assert_allclose(est[0, 0], n, atol=1e-5)


# ---------------------------------------------------------------------------
# derive_saliency.py
# ---------------------------------------------------------------------------
def _write_layout(root: str, layout: str):
    """Write a tiny data set; return the expected train saliency per id."""
    rng = np.random.default_rng(1)
    h, w = 4, 5
    expected = {}
    nc = 13 if layout == 'numpy' else 40
    lut = salient_class_lut(nc)
    for split, ids in (('train', ['1', '2']), ('test', ['3'])):
        for i in ids:
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            seg = rng.integers(0, nc + 1, (h, w))  # 0 = unlabelled
            seg[0, 0] = 0
            sal = np.where(seg == 0, 0, lut[np.maximum(seg - 1, 0)])
            if layout == 'numpy':
                alt = 'val' if split == 'test' else split
                for kind in ('image', 'label'):
                    os.makedirs(osp.join(root, alt, kind), exist_ok=True)
                np.save(osp.join(root, alt, 'image', f'{i}.npy'), img / 255.)
                np.save(osp.join(root, alt, 'label', f'{i}.npy'), seg - 1)
                sal = np.where(seg == 0, 255, sal)  # NaN in .npy = ignore
            elif layout == 'nyud':
                for kind in ('images', 'segmentation', 'gt_sets'):
                    os.makedirs(osp.join(root, kind), exist_ok=True)
                Image.fromarray(img).save(osp.join(root, 'images', f'{i}.png'))
                Image.fromarray(seg.astype(np.uint8)).save(
                    osp.join(root, 'segmentation', f'{i}.png'))
                name = 'val' if split == 'test' else split
                with open(osp.join(root, 'gt_sets', f'{name}.txt'), 'a') as f:
                    f.write(f'{i}\n')
            else:
                for kind in ('image', 'seg40'):
                    os.makedirs(osp.join(root, kind, split), exist_ok=True)
                Image.fromarray(img).save(
                    osp.join(root, 'image', split, f'{i}.png'))
                Image.fromarray(seg.astype(np.uint8)).save(
                    osp.join(root, 'seg40', split, f'{i}.png'))
            if split == 'train':
                expected[i] = sal
    return expected, nc


@pytest.mark.parametrize('layout', ['toolkit', 'nyud', 'numpy'])
def test_derive_saliency_is_loadable(tmp_path, layout):
    root = str(tmp_path / layout)
    expected, nc = _write_layout(root, layout)
    proc = run_tool([sys.executable, DERIVE, root])
    assert proc.returncode == 0, proc.stderr
    assert f'derived saliency for 3 images ({layout} layout' in proc.stdout
    for split in ('train', 'test'):
        ds = NYUv2MultiTaskDataset(
            root,
            split=split,
            tasks=['saliency'],
            num_classes=nc,
            pipeline=LOAD)
        assert ds.layout == layout and len(ds) == (2
                                                   if split == 'train' else 1)
        if split == 'train':
            for k in range(len(ds)):
                res = ds[k]
                np.testing.assert_array_equal(res['gt_saliency'],
                                              expected[res['sample_id']])
    report = json.load(open(osp.join(root, 'derived_saliency.json')))
    assert report['derived'] and report['num_classes'] == nc


def test_derive_saliency_from_converted_nyuv2(monkeypatch, tmp_path):
    root = str(tmp_path / 'nyuv2')
    _convert_in_process(monkeypatch, root)
    proc = run_tool([sys.executable, DERIVE, root])  # from seg40
    assert proc.returncode == 0, proc.stderr
    from40 = np.array(Image.open(osp.join(root, 'saliency/train/00001.png')))
    assert set(np.unique(from40)) <= {0, 255}
    # Existing maps may be real labels: refused without --overwrite.
    proc = run_tool([sys.executable, DERIVE, root, '--num-classes', '13'])
    assert proc.returncode == 2
    assert 'already exist' in proc.stderr and '--overwrite' in proc.stderr
    proc = run_tool(
        [sys.executable, DERIVE, root, '--num-classes', '13', '--overwrite'])
    assert proc.returncode == 0, proc.stderr
    from13 = np.array(Image.open(osp.join(root, 'saliency/train/00001.png')))
    np.testing.assert_array_equal(from13, from40)  # same rule


# ---------------------------------------------------------------------------
# browse_dataset.py
# ---------------------------------------------------------------------------
def test_browse_dataset_writes_panels(tmp_path):
    from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
    data = str(tmp_path / 'rooms')
    generate_synthetic_rooms(data, num=8, size=(24, 32), seed=0)
    cfg = tmp_path / 'browse_cfg.py'
    cfg.write_text(
        f"_base_ = ['{REPO}/configs/_base_/datasets/synthetic_rooms.py']\n"
        f"data_root = '{data}'\n"
        'train_dataloader = dict(dataset=dict(data_root=data_root))\n'
        'test_dataloader = dict(dataset=dict(data_root=data_root))\n')
    tool = _load_tool(BROWSE)
    init_default_scope('had_mm')
    bare = tool.browse(
        tool.build_dataset(str(cfg), 'train'),
        str(tmp_path / 'bare'),
        2,
        bare=True)
    grid = np.array(Image.open(bare[0]))
    # labels only: one row, the image + 4 task panels of 32 + 2 px gaps
    assert grid.shape == (24, 5 * 32 + 4 * 2, 3)

    out = str(tmp_path / 'out')
    proc = run_tool([
        sys.executable, BROWSE,
        str(cfg), '--output-dir', out, '--num', '3', '--split', 'train'
    ])
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = sorted(os.listdir(out))
    assert len(files) == 3 and all(f.endswith('.png') for f in files)
    named = np.array(Image.open(osp.join(out, files[0])))
    # with task names and keys: larger than the bare panels
    assert named.shape[0] > 24 and named.shape[1] > 5 * 32


def test_browse_dataset_missing_config():
    proc = run_tool([sys.executable, BROWSE, 'configs/nope.py'])
    assert proc.returncode == 2
    assert 'configs/nope.py" does not exist' in proc.stderr
    assert 'Traceback' not in proc.stderr
