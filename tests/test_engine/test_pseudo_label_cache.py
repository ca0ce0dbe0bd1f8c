"""The lifelong loop's pseudo-label cache and its CPU performance options."""
import copy
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from tiny_model import tiny_predictor_cfg
from tool_runner import REPO, run_tool

from had_mm.datasets.transforms import (LoadMultiTaskAnnotations,
                                        LoadMultiTaskImage,
                                        MultiTaskRandomFlip,
                                        MultiTaskRandomScaleCrop,
                                        MultiTaskResize, PackMultiTaskInputs)
from had_mm.engine.loops.pseudo_label_cache import (cacheable_pipeline,
                                                    compute_pseudo_label_cache)
from had_mm.registry import MODELS

TINY = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')
OLD = ('semantic', 'depth', 'normal')


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('had_mm')


def _batch(indices, flips=None, h=24, w=32):
    """Samples ``indices`` of a fixed random set (image i is always the
    same), labelled for saliency only (the phase-4 task)."""
    items = []
    for k, i in enumerate(indices):
        rng = np.random.default_rng(i)
        img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        sal = rng.integers(0, 2, (h, w)).astype(np.uint8)
        flip = bool(flips and flips[k])
        if flip:
            img, sal = img[:, ::-1].copy(), sal[:, ::-1].copy()
        items.append(PackMultiTaskInputs().transform(
            dict(
                img_path=f'img_{i}.png',
                flip=flip,
                img=img,
                img_shape=(h, w),
                ori_shape=(h, w),
                gt_saliency=sal)))
    return dict(
        inputs=[it['inputs'] for it in items],
        data_samples=[it['data_samples'] for it in items])


def _models():
    torch.manual_seed(0)
    model = MODELS.build(tiny_predictor_cfg())
    teacher = copy.deepcopy(model)
    with torch.no_grad():  # a teacher that disagrees with the student
        for p in teacher.parameters():
            p.add_(0.05 * torch.randn_like(p))
    losses = {t: MODELS.build(dict(type='HADLoss', task=t)) for t in OLD}
    model.set_distillation(teacher, losses, 3.0)
    return model, teacher


def _losses(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model(**data, mode='loss')


def test_cached_losses_equal_the_online_teachers_without_augmentation():
    model, teacher = _models()
    # the cache pass sees the images in other batches and another order
    cache = compute_pseudo_label_cache(
        teacher, OLD, [_batch([3, 0]), _batch([2, 1, 4])])
    assert len(cache) == 5 and set(cache.outputs) == set(OLD)
    # raw outputs at decode resolution (1/8 of 24x32), not input size
    assert cache.outputs['semantic'].shape == (5, 13, 3, 4)
    assert cache.nbytes == 5 * (13 + 1 + 3) * 3 * 4 * 4
    batch = _batch([0, 1, 2, 4])
    online = _losses(model, batch)
    calls = []
    handle = teacher.backbone.register_forward_hook(lambda *a: calls.append(1))
    model.set_pseudo_label_cache(cache)
    cached = _losses(model, batch)
    handle.remove()
    assert calls == []  # the teacher did not run
    assert set(cached) == set(online)
    for key in online:
        torch.testing.assert_close(cached[key], online[key], msg=key)
    model.clear_distillation()
    assert model.pseudo_label_cache is None


def test_flipped_samples_get_mirrored_maps_with_negated_normal_x():
    _, teacher = _models()
    cache = compute_pseudo_label_cache(teacher, OLD, [_batch([0, 1])])
    plain = cache.lookup(_batch([0, 1]).pop('data_samples'), OLD, (24, 32))
    samples = _batch([0, 1], flips=[True, False])['data_samples']
    flipped = cache.lookup(samples, OLD, (24, 32))
    for task in OLD:
        expect = plain[task].clone()
        expect[0] = expect[0].flip(-1)
        if task == 'normal':
            expect[0, 0] = -expect[0, 0]
        torch.testing.assert_close(flipped[task], expect, msg=task)
    # the cache is left unchanged by a flipped look-up
    again = cache.lookup(_batch([0, 1]).pop('data_samples'), OLD, (24, 32))
    torch.testing.assert_close(again['normal'], plain['normal'])
    with pytest.raises(KeyError, match='img_7.png'):
        cache.lookup(_batch([7])['data_samples'], OLD, (24, 32))
    with pytest.raises(ValueError, match='input size'):
        cache.lookup(samples, OLD, (32, 32))


def test_cacheable_pipeline_keeps_the_deterministic_part():
    load, ann = LoadMultiTaskImage(), LoadMultiTaskAnnotations()
    resize, pack = MultiTaskResize((24, 32)), PackMultiTaskInputs()
    kept, flips = cacheable_pipeline(
        [load, ann, resize, MultiTaskRandomFlip(0.5), pack])
    assert kept == [load, resize, pack] and flips
    _, flips = cacheable_pipeline([load, MultiTaskRandomFlip(0.0), pack])
    assert not flips
    with pytest.raises(ValueError, match='MultiTaskRandomScaleCrop'):
        cacheable_pipeline([load, MultiTaskRandomScaleCrop(), pack])


def _train(work_dir, data_root, *opts, config=TINY):
    cmd = [
        sys.executable, 'tools/train.py', config, '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', *opts
    ]
    proc = run_tool(cmd)
    return proc, proc.stdout + proc.stderr


NO_FLIP = 'train_dataloader.dataset.pipeline.2.prob=0.0'


@pytest.fixture(scope='module')
def online_and_cached_runs(synthetic_rooms_root, tmp_path_factory):
    """The tiny 3-phase run without augmentation: with the online teacher,
    and with the pseudo-label cache (default memory format and fp32, for
    the same sums: channels_last and --amp are tested in test_cpu_amp.py).
    """
    runs = {}
    for name, opts in (('online', [NO_FLIP]),
                       ('cached',
                        [NO_FLIP, 'train_cfg.pseudo_label_cache=True'])):
        work = tmp_path_factory.mktemp(name)
        proc, out = _train(work, synthetic_rooms_root, *opts)
        assert proc.returncode == 0, out[-4000:]
        runs[name] = (work, out)
    return runs


def test_lifelong_run_with_cache_ends_with_the_online_weights(
        online_and_cached_runs):
    (online, _), (cached, out) = (online_and_cached_runs['online'],
                                  online_and_cached_runs['cached'])
    # phases 2 and 3 build their cache (1 and 2 old tasks); 10 images each
    lines = [ln for ln in out.splitlines() if 'pseudo-label cache:' in ln]
    assert len(lines) == 2, out[-3000:]
    assert 'semantic 13' in lines[0] and 'depth 1' in lines[1]
    assert 'MiB' in lines[0] and 'flips' not in lines[0]
    ref = torch.load(online / 'phase_3_normal.pth', map_location='cpu')
    res = torch.load(cached / 'phase_3_normal.pth', map_location='cpu')
    for row, ref_row in zip(res['lifelong']['matrix'],
                            ref['lifelong']['matrix']):
        assert [v is None for v in row] == [v is None for v in ref_row]
        values = [v for v in row if v is not None]
        expected = [v for v in ref_row if v is not None]
        assert values == pytest.approx(expected, rel=1e-5)
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(res['state_dict'][key], value, msg=key)


def test_cache_refuses_a_random_scale_crop_before_training(
        synthetic_rooms_root, tmp_path):
    config = tmp_path / 'crop.py'
    config.write_text(f"_base_ = ['{TINY}']\n"
                      "train_dataloader = dict(dataset=dict(pipeline=[\n"
                      "    dict(type='LoadMultiTaskImage'),\n"
                      "    dict(type='LoadMultiTaskAnnotations'),\n"
                      "    dict(type='MultiTaskRandomScaleCrop'),\n"
                      "    dict(type='PackMultiTaskInputs')]))\n"
                      "train_cfg = dict(pseudo_label_cache=True)\n")
    proc, out = _train(tmp_path / 'w', synthetic_rooms_root, config=config)
    assert proc.returncode != 0
    assert 'MultiTaskRandomScaleCrop' in out and 'pseudo_label_cache' in out
    assert 'Traceback' not in out and 'Iter(train)' not in out


def test_a_config_amp_optim_wrapper_trains_in_fp32_on_cpu():
    if torch.cuda.is_available():
        pytest.skip('the CPU path')
    from mmengine.config import Config

    from had_mm.apis.launch import _skip_config_amp_on_cpu
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='AmpOptimWrapper',
                loss_scale='dynamic',
                optimizer=dict(type='Adam', lr=1e-3))))
    _skip_config_amp_on_cpu(cfg)
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
