"""Every KDP config loads with its _base_ chain; the DKD / FitNets /
ReviewKD configs build (tiny ones in full, the ViT-B/S ones' distillation
modes) and take checkpoint paths only."""
import copy
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample

from had_mm.registry import MODELS

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
LEARNERS = ('l2p', 'dualprompt', 'coda')
MODES = dict(
    dkd='DKDDistill', fitnets='FitNetsDistill', reviewkd='ReviewKDDistill')
SETTINGS = ('tiny-vit_procedural', 'vit-b16-s16_cifar100',
            'vit-b16-s16_imagenet-r')


@functools.lru_cache(maxsize=None)
def _load(name):
    # cached: the tests only read the configs
    return Config.fromfile(osp.join(CONFIGS, name))


def test_every_config_loads_without_downloads():
    names = sorted(
        osp.basename(p) for p in glob.glob(osp.join(CONFIGS, '*.py')))
    assert len(names) >= 45
    for name in names:
        cfg = _load(name)
        for model in (cfg.model.student, cfg.model.get('teacher')):
            if model is None:
                continue
            for key in ('backbone_checkpoint', 'query_checkpoint'):
                path = model.get(key)
                assert path is None or '://' not in path, (name, key)


@pytest.mark.parametrize('setting', SETTINGS)
@pytest.mark.parametrize('method', sorted(MODES))
def test_baseline_configs(setting, method):
    for learner in LEARNERS:
        cfg = _load(f'{learner}-{method}_{setting}.py')
        distill = cfg.model.student.distill
        assert distill.type == MODES[method]
        # everything else is the KDP config's
        kdp = _load(f'{learner}-kdp_{setting}.py')
        assert cfg.model.teacher == kdp.model.teacher
        assert cfg.model.student.prompt == kdp.model.student.prompt
        assert cfg.train_cfg == kdp.train_cfg
    if setting != 'tiny-vit_procedural':
        # the ViT-S/16 student, ViT-B/16 teacher shape
        mode = MODELS.build(
            dict(
                distill,
                embed_dims=384,
                num_layers=12,
                num_classes=cfg.num_classes,
                **(dict(teacher_dims=768, teacher_num_layers=12)
                   if method != 'dkd' else {})))
        if method == 'fitnets':
            assert (mode.student_layer, mode.teacher_layer) == (11, 11)
        if method == 'reviewkd':
            assert mode.teacher_layers == (2, 5, 8, 11)


@pytest.mark.parametrize('method', sorted(MODES))
def test_tiny_baselines_build_and_train_a_step(method):
    cfg = _load(f'coda-{method}_tiny-vit_procedural.py')
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    for part in ('teacher', 'student'):
        model_cfg[part]['backbone_checkpoint'] = None
        model_cfg[part].pop('query_checkpoint', None)
    model_cfg['teacher']['query_checkpoint'] = None
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    assert model.student.prompt.gram_schmidt
    model.begin_task(0, 4, (0, 4))
    model.set_stage('student')
    model.train()
    images = torch.randn(4, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    losses = model.loss(images, samples)
    sum(losses.values()).backward()
    assert all(torch.isfinite(v) for v in losses.values())


@pytest.mark.parametrize('setting', SETTINGS)
def test_capacity_control_configs(setting):
    for learner in LEARNERS:
        cfg = _load(f'{learner}-kdp-capacity_{setting}.py')
        kdp = _load(f'{learner}-kdp_{setting}.py')
        assert cfg.model.teacher is None
        distill = cfg.model.student.distill
        assert distill.type == 'KDPCapacityControl'
        assert distill.prompt_length == kdp.model.student.distill.prompt_length
        assert distill.alpha == kdp.model.student.distill.alpha
        assert cfg.model.student.prompt == kdp.model.student.prompt


def test_l2p_and_coda_mechanics_on_by_default_in_the_configs():
    for prefix in ('tiny-vit_procedural', 'vit-b16-s16_cifar100'):
        l2p = _load(f'l2p-kdp_{prefix}.py').model.student.prompt
        assert l2p.batchwise_prompt and not l2p.frequency_penalty
        coda = _load(f'coda-kdp_{prefix}.py').model.teacher.prompt
        assert coda.gram_schmidt
