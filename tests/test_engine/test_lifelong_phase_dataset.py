"""The data set of each lifelong phase: its chunk, and its own pipeline."""
import os.path as osp

from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope
from tool_runner import REPO

from had_mm.engine.loops.lifelong_train_loop import LifelongTrainLoop

DATASET_CFG = osp.join(REPO, 'configs', '_base_', 'datasets',
                       'synthetic_rooms.py')


def _loop(root, tasks=('semantic', 'depth', 'normal')):
    """A loop holding only what ``_phase_dataset`` reads."""
    cfg = Config.fromfile(DATASET_CFG).train_dataloader.to_dict()
    cfg['dataset']['data_root'] = root
    loop = object.__new__(LifelongTrainLoop)
    loop.dataloader_cfg = cfg
    loop.phase_names = list(tasks)
    loop.phases = [dict(max_iters=1) for _ in tasks]
    loop.split, loop.num_chunks = 'contiguous', len(tasks)
    return loop


def _image_paths(dataset):
    return [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]


def test_phases_take_disjoint_contiguous_chunks(synthetic_rooms_root):
    init_default_scope('had_mm')
    loop = _loop(synthetic_rooms_root)
    full = loop._build_dataset(1, loop._phase_dataset_cfg(1))
    names = _image_paths(full)
    n = len(names)
    assert n == 24
    for t in range(3):
        assert _image_paths(
            loop._phase_dataset(t)) == names[t * n // 3:(t + 1) * n // 3]


def test_phase_dataset_keeps_its_own_transforms(synthetic_rooms_root,
                                                monkeypatch):
    """mmengine 0.10.7's ``BaseDataset.get_subset`` deep-copies through one
    memo shared by every call (a mutable default argument). Once an older
    data set is freed, a transform allocated at its address was replaced by
    that data set's copy: a spawned rank then failed with "object is not
    callable". Here the shared memo holds a stale entry at the id of every
    object of the new pipeline, as such a reused address would; the phase
    data set must still hold its own transforms."""
    init_default_scope('had_mm')
    loop = _loop(synthetic_rooms_root)
    memo = BaseDataset._copy_without_annotation.__defaults__[0]
    assert isinstance(memo, dict)  # the shared memo this test stands for
    stale, build = object(), loop._build_dataset
    poisoned = []

    def build_and_poison(t, cfg):
        dataset = build(t, cfg)
        for obj in [dataset.pipeline, *dataset.pipeline.transforms]:
            if id(obj) not in memo:
                memo[id(obj)] = stale
                poisoned.append(id(obj))
        return dataset

    monkeypatch.setattr(loop, '_build_dataset', build_and_poison)
    try:
        dataset = loop._phase_dataset(1)
    finally:
        for key in poisoned:
            memo.pop(key, None)
    assert poisoned
    names = [type(t).__name__ for t in dataset.pipeline.transforms]
    assert names[0] == 'LoadMultiTaskImage' and names[-1] == (
        'PackMultiTaskInputs'), names
    assert dataset[0]['inputs'].ndim == 3
