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
from had_mm.engine.loops import pseudo_label_cache as plc
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
    model.attach_teacher(teacher, losses=losses, weight=3.0)
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
    model.detach_teacher()
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
    # the scale-crop is followed on the cached maps, not run in the pass
    crop = MultiTaskRandomScaleCrop()
    kept, flips = cacheable_pipeline([load, resize, crop, pack])
    assert kept == [load, resize, pack] and not flips
    assert plc.pipeline_scale_crops([load, crop, pack])
    assert not plc.pipeline_scale_crops(
        [load, MultiTaskRandomScaleCrop((1.0, )), pack])

    class Jitter:
        pass

    with pytest.raises(ValueError, match='Jitter'):
        cacheable_pipeline([load, Jitter(), pack])


def _ramp_cache(h=24, w=32, stride=4):
    """A cache whose one image has depth = the x coordinate (input pixels)
    and normal channels (x, y, 1) of each decode pixel's centre."""
    cache = plc.PseudoLabelCache(['depth', 'normal'], (h, w))
    ys = (torch.arange(h // stride) + 0.5) * stride
    xs = (torch.arange(w // stride) + 0.5) * stride
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    sample = _batch([0])['data_samples']
    cache.add(
        sample,
        dict(
            depth=xx[None, None].clone(),
            normal=torch.stack([xx, yy, torch.ones_like(xx)])[None]), (h, w))
    return cache.finalize(), xx, yy


def _zoomed(scale_crop, flip=False):
    sample = _batch([0])['data_samples'][0]
    sample.set_metainfo(dict(scale_crop=scale_crop, flip=flip))
    return [sample]


def test_zoomed_sample_gets_its_crop_window_resized_back():
    cache, xx, yy = _ramp_cache()
    # zoom 2: the 12 x 16 window at (y0, x0) = (6, 8), resized to 24 x 32;
    # output pixel X maps to 8 + X / 2 (a linear map: bilinear is exact)
    out = cache.lookup(_zoomed((2.0, 6, 8)), ['depth', 'normal'], (24, 32))
    torch.testing.assert_close(out['depth'][0, 0], 8 + xx / 2)
    torch.testing.assert_close(out['normal'][0, 1], 6 + yy / 2)
    # then the flip: mirrored, x component negated
    flipped = cache.lookup(
        _zoomed((2.0, 6, 8), flip=True), ['normal'], (24, 32))
    torch.testing.assert_close(flipped['normal'][0, 0], -(8 + xx / 2).flip(-1))
    # zoom 1 is the identity, exactly
    same = cache.lookup(_zoomed((1.0, 0, 0)), ['depth'], (24, 32))
    torch.testing.assert_close(same['depth'], cache.outputs['depth'])


def test_cached_raw_outputs_carry_the_zoom_that_divides_the_depth():
    _, teacher = _models()
    cache = compute_pseudo_label_cache(teacher, OLD, [_batch([0, 1])])
    samples = _batch([0, 1])['data_samples']
    inputs = torch.zeros(2, 3, 24, 32)  # only the padded size is read
    assert cache.raw_outputs(inputs, samples, OLD).zoom is None
    samples[0].set_metainfo(dict(scale_crop=(1.5, 2, 3)))
    raw = cache.lookup(samples, OLD, (24, 32))
    expect = teacher.outputs_from_raw(raw, OLD, (24, 32))
    got = cache.raw_outputs(inputs, samples, OLD)
    torch.testing.assert_close(got.zoom, torch.tensor([1.5, 1.0]))
    for task in OLD:
        torch.testing.assert_close(got.raw[task], raw[task])
    out = teacher.outputs_from_raw(got.raw, OLD, (24, 32), got.zoom)
    torch.testing.assert_close(out['depth'][0], expect['depth'][0] / 1.5)
    torch.testing.assert_close(out['depth'][1], expect['depth'][1])
    torch.testing.assert_close(out['semantic'], expect['semantic'])


class _Images:
    """A dataset of the ``_batch`` images through a transform list."""

    def __init__(self, transforms, n=4, h=24, w=32):
        self.transforms, self.n, self.h, self.w = transforms, n, h, w

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        results = dict(
            img_path=f'img_{i}.png',
            img=rng.integers(0, 255, (self.h, self.w, 3), dtype=np.uint8),
            img_shape=(self.h, self.w),
            ori_shape=(self.h, self.w))
        for transform in self.transforms:
            results = transform.transform(results)
        return results


def test_cache_error_of_the_identity_zoom_is_zero():
    _, teacher = _models()
    cache = compute_pseudo_label_cache(teacher, OLD, [_batch([0, 1, 2, 3])])
    dataset = _Images(
        [MultiTaskRandomScaleCrop((1.0, )),
         PackMultiTaskInputs()])
    errors = plc.measure_cache_error(
        teacher, OLD, dataset, cache, batch_size=3)
    assert errors['images'] == 4 and errors['zoomed'] == 0
    assert errors['semantic'] == 1.0
    assert errors['depth'] == pytest.approx(0, abs=1e-6)
    assert errors['normal'] == pytest.approx(0, abs=0.05)
    # zooms: agreement below 1, errors above 0, within their ranges
    state = np.random.get_state()
    dataset.transforms[0] = MultiTaskRandomScaleCrop((1.5, 2.0))
    errors = plc.measure_cache_error(teacher, OLD, dataset, cache)
    assert errors['zoomed'] == 4
    assert 0 < errors['semantic'] < 1 and 0 < errors['normal'] < 180
    assert errors['depth'] > 0
    # the training's random state is left as it was
    assert np.array_equal(np.random.get_state()[1], state[1])
    line = plc.format_cache_error(errors)
    assert 'semantic agreement' in line and 'normal angle' in line


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


def _pipeline_config(tmp_path, transform):
    config = tmp_path / 'augmented.py'
    config.write_text(f"_base_ = ['{TINY}']\n"
                      "train_dataloader = dict(dataset=dict(pipeline=[\n"
                      "    dict(type='LoadMultiTaskImage'),\n"
                      "    dict(type='LoadMultiTaskAnnotations'),\n"
                      f"    {transform},\n"
                      "    dict(type='MultiTaskRandomFlip', prob=0.5),\n"
                      "    dict(type='PackMultiTaskInputs')]))\n"
                      "train_cfg = dict(pseudo_label_cache=True)\n")
    return config


def test_cache_follows_the_nyuv2_scale_crop_and_logs_its_error(
        synthetic_rooms_root, tmp_path):
    config = _pipeline_config(
        tmp_path, "dict(type='MultiTaskRandomScaleCrop', "
        'scales=(1.0, 1.2, 1.5))')
    proc, out = _train(tmp_path / 'w', synthetic_rooms_root, config=config)
    assert proc.returncode == 0, out[-4000:]
    lines = [ln for ln in out.splitlines() if 'pseudo-label cache' in ln]
    built = [ln for ln in lines if 'flips and scale-crops applied' in ln]
    errors = [ln for ln in lines if 'vs online teacher under scale' in ln]
    assert len(built) == 2 and len(errors) == 2, out[-3000:]
    assert 'semantic agreement' in errors[0]
    assert 'depth abs error' in errors[1] and ' m' in errors[1]
    assert 'Traceback' not in out


def test_cache_refuses_another_random_transform_before_training(
        synthetic_rooms_root, tmp_path):
    config = _pipeline_config(tmp_path, "dict(type='PhotoMetricDistortion')")
    proc, out = _train(tmp_path / 'w', synthetic_rooms_root, config=config)
    assert proc.returncode != 0
    assert 'PhotoMetricDistortion' in out and 'pseudo_label_cache' in out
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
