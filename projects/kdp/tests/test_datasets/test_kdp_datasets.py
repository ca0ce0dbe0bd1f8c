"""KDP data sets: class splits, CIFAR-100 pickles, ImageNet-R, procedural."""
import os
import os.path as osp
import pickle

import numpy as np
import pytest

from had_mm.registry import DATASETS


def test_class_order_from_seed_explicit_and_natural():
    from projects.kdp.kdp.datasets import make_class_order
    assert make_class_order(5) == [0, 1, 2, 3, 4]
    seeded = make_class_order(10, seed=3)
    assert sorted(seeded) == list(range(10))
    assert seeded == make_class_order(10, seed=3)
    assert seeded != make_class_order(10, seed=4)
    assert make_class_order(3, class_order=[2, 0, 1], seed=3) == [2, 0, 1]


@pytest.mark.parametrize('order, words', [
    ([0, 1, 2], ['3 entries for 4 classes', 'missing classes: [3]']),
    ([0, 1, 2, 2], ['repeated classes: [2]', 'missing classes: [3]']),
    ([0, 1, 2, 7], ['out of range(0, 4): [7]', 'missing classes: [3]']),
])
def test_class_order_that_does_not_cover_the_classes(order, words):
    from projects.kdp.kdp.datasets import check_class_order
    with pytest.raises(ValueError) as err:
        check_class_order(order, 4)
    for word in words:
        assert word in str(err.value)


def test_task_ranges_and_selection():
    from projects.kdp.kdp.datasets import (check_tasks, classes_per_task,
                                           task_class_range)
    assert classes_per_task(100, 10) == 10
    assert task_class_range(3, 100, 10) == (30, 40)
    with pytest.raises(ValueError, match='does not divide'):
        classes_per_task(100, 7)
    with pytest.raises(ValueError, match='out of range'):
        task_class_range(10, 100, 10)
    assert check_tasks(None, 3) == [0, 1, 2]
    assert check_tasks(2, 3) == [2]
    with pytest.raises(ValueError, match='out of range'):
        check_tasks([0, 5], 3)


def _fake_cifar(root: str, per_class: int = 2) -> dict:
    """A tiny cifar-100-python/ with the standard pickle layout."""
    folder = osp.join(root, 'cifar-100-python')
    os.makedirs(folder)
    rng = np.random.RandomState(0)
    out = {}
    for split in ('train', 'test'):
        labels = np.repeat(np.arange(100), per_class)
        data = rng.randint(0, 256, (len(labels), 3072)).astype(np.uint8)
        out[split] = (data, labels)
        with open(osp.join(folder, split), 'wb') as f:
            pickle.dump(
                {
                    b'data': data,
                    b'fine_labels': labels.tolist(),
                    b'coarse_labels': (labels // 5).tolist(),
                    b'filenames': [b'x.png'] * len(labels)
                }, f)
    with open(osp.join(folder, 'meta'), 'wb') as f:
        pickle.dump({b'fine_label_names': [f'c{i}' for i in range(100)]}, f)
    return out


def test_cifar100_pickle_layout_split_and_remap(tmp_path):
    raw = _fake_cifar(str(tmp_path))
    data, labels = raw['test']
    ds = DATASETS.build(
        dict(
            type='CIFAR100Pickle',
            data_root=str(tmp_path),
            split='test',
            num_tasks=10,
            class_order_seed=1993,
            tasks=[1]))
    order = ds.metainfo['class_order']
    assert sorted(order) == list(range(100))
    assert ds.metainfo['classes'][0] == f'c{order[0]}'
    assert ds.metainfo['classes_per_task'] == 10
    assert len(ds) == 20  # 10 classes x 2 images
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert 10 <= info['gt_label'] < 20
        assert order[info['gt_label']] == info['ori_label']
        assert info['task_id'] == 1
        # the image is the pickle's row, HWC
        idx = np.flatnonzero(labels == info['ori_label'])
        rows = [data[j].reshape(3, 32, 32).transpose(1, 2, 0) for j in idx]
        assert any(np.array_equal(info['img'], r) for r in rows)
    # data_root may be the cifar-100-python folder itself
    ds2 = DATASETS.build(
        dict(
            type='CIFAR100Pickle',
            data_root=osp.join(str(tmp_path), 'cifar-100-python'),
            split='train',
            num_tasks=10))
    assert len(ds2) == 200


def test_cifar100_pickle_missing_file_is_named(tmp_path):
    _fake_cifar(str(tmp_path))
    os.remove(osp.join(str(tmp_path), 'cifar-100-python', 'test'))
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(
            dict(type='CIFAR100Pickle', data_root=str(tmp_path), split='test'))
    msg = str(err.value)
    assert osp.join('cifar-100-python', 'test') in msg
    assert 'expected layout' in msg
    with pytest.raises(FileNotFoundError, match='meta'):
        DATASETS.build(
            dict(type='CIFAR100Pickle', data_root=str(tmp_path / 'nothing')))


def test_cifar100_pickle_bad_class_order_fails_before_reading(tmp_path):
    _fake_cifar(str(tmp_path))
    with pytest.raises(ValueError, match='missing classes'):
        DATASETS.build(
            dict(
                type='CIFAR100Pickle',
                data_root=str(tmp_path),
                class_order=list(range(99))))


def test_imagenet_r_folder_and_split_files(tmp_path):
    from PIL import Image
    root = tmp_path / 'inr'
    wnids = ['n002', 'n001', 'n003', 'n004']
    lines = []
    for w in wnids:
        (root / 'imagenet-r' / w).mkdir(parents=True)
        for i in range(2):
            Image.new('RGB', (8, 8), (i * 60, 0, 0)).save(root / 'imagenet-r' /
                                                          w / f'art_{i}.jpg')
            lines.append(f'{w}/art_{i}.jpg')
    (root / 'train.txt').write_text('\n'.join(lines) + '\n')
    (root / 'test.txt').write_text(lines[0] + ' 0\n')
    ds = DATASETS.build(
        dict(type='ImageNetR', data_root=str(root), num_tasks=2, tasks=[0]))
    # classes are the sorted folders
    assert ds.metainfo['classes'] == ('n001', 'n002', 'n003', 'n004')
    assert len(ds) == 4
    assert {ds.get_data_info(i)['gt_label'] for i in range(4)} == {0, 1}
    assert ds.get_data_info(0)['img_path'].endswith('.jpg')
    test = DATASETS.build(
        dict(type='ImageNetR', data_root=str(root), split='test', num_tasks=2))
    assert len(test) == 1 and test.get_data_info(0)['gt_label'] == 1
    # the pipeline loads the images
    loaded = DATASETS.build(
        dict(
            type='ImageNetR',
            data_root=str(root),
            num_tasks=2,
            pipeline=[
                dict(type='mmpretrain.LoadImageFromFile'),
                dict(type='mmpretrain.PackInputs')
            ]))[0]
    assert tuple(loaded['inputs'].shape) == (3, 8, 8)
    (root / 'val.txt').write_text('n999/x.jpg\n')
    with pytest.raises(ValueError, match='not in a class folder'):
        DATASETS.build(
            dict(
                type='ImageNetR',
                data_root=str(root),
                split='val',
                num_tasks=2))
    with pytest.raises(FileNotFoundError, match='split file'):
        DATASETS.build(
            dict(
                type='ImageNetR', data_root=str(root), split='x', num_tasks=2))


def test_procedural_shapes_deterministic_disjoint_and_split():
    from projects.kdp.kdp.datasets import (generate_procedural,
                                           procedural_classes)
    a, la, names = generate_procedural(4, 3, seed=0)
    b, _, _ = generate_procedural(4, 3, seed=0)
    c, _, _ = generate_procedural(4, 3, seed=1)
    t, _, _ = generate_procedural(4, 3, seed=0, split='test')
    assert a.shape == (12, 32, 32, 3) and a.dtype == np.uint8
    assert la.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, t)
    assert len(set(names)) == 4
    # the pre-training range shares no class with the continual range
    assert not set(procedural_classes(20)) & set(procedural_classes(40, 200))
    with pytest.raises(ValueError):
        procedural_classes(10, 380)

    cfg = dict(
        type='ProceduralShapes',
        num_classes=8,
        num_per_class=3,
        num_tasks=4,
        class_order_seed=0,
        pipeline=[
            dict(
                type='mmpretrain.RandomResizedCrop',
                scale=32,
                crop_ratio_range=(0.7, 1.0)),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ])
    full = DATASETS.build(cfg)
    part = DATASETS.build(dict(cfg, tasks=[2]))
    assert len(full) == 24 and len(part) == 6
    labels = {part.get_data_info(i)['gt_label'] for i in range(len(part))}
    assert labels == {4, 5}
    # a task's images are the same whatever else is selected
    img = part.get_data_info(0)['img']
    assert any(
        np.array_equal(img,
                       full.get_data_info(i)['img']) for i in range(len(full)))
    out = part[0]
    assert tuple(out['inputs'].shape) == (3, 32, 32)
    assert int(out['data_samples'].gt_label) in (4, 5)
    with pytest.raises(ValueError, match='does not divide'):
        DATASETS.build(dict(cfg, num_tasks=3))
