"""Pretrained weights a config names: found, fetched, or one line offline.

Nothing here downloads: the fetch is a stand-in that fails as an offline
machine does, or writes a file."""
import urllib.error

import pytest
from mmengine.config import Config

from had_mm.utils import pretrained_weights as pw

NYUV2 = 'configs/had/nyuv2_4tasks.py'
KEY = 'model.backbone.init_cfg.checkpoint'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty weights cache (TORCH_HOME) for each test."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    return tmp_path / 'torch_home' / 'checkpoints'


def _offline(url, dst):
    raise urllib.error.URLError('[Errno -2] Name or service not known')


def test_the_nyuv2_config_names_mmsegs_imagenet_resnet18():
    cfg = Config.fromfile(NYUV2)
    assert pw.find_pretrained(cfg.model) == [(KEY, 'open-mmlab://resnet18_v1c')
                                             ]
    assert pw.weights_url('open-mmlab://resnet18_v1c') == (
        'https://download.openmmlab.com/pretrain/third_party/'
        'resnet18_v1c-b5776b93.pth')
    # SyncBN everywhere (the launcher reverts it on CPU ranks)
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.model.heads.semantic.norm_cfg.type == 'SyncBN'
    assert cfg.model.heads.depth.body.norm_cfg.type == 'SyncBN'


def test_offline_is_one_line_naming_the_file_and_the_override(cache):
    cfg = Config.fromfile(NYUV2)
    with pytest.raises(OSError) as err:
        pw.check_pretrained_weights(cfg.model, fetch=_offline)
    line = str(err.value)
    assert '\n' not in line
    assert 'open-mmlab://resnet18_v1c' in line
    assert 'Name or service not known' in line
    assert f'--cfg-options {KEY}=/path/to/resnet18_v1c-b5776b93.pth' in line
    assert not list(cache.glob('*'))  # no half file left in the cache
    with pytest.raises(FileNotFoundError, match='are not in'):
        pw.check_pretrained_weights(cfg.model, download=False)


def test_the_local_path_override_is_taken_and_checked(tmp_path, cache):
    weights = tmp_path / 'resnet18_v1c-b5776b93.pth'
    cfg = Config.fromfile(NYUV2)
    cfg.merge_from_dict({KEY: str(weights)})
    with pytest.raises(FileNotFoundError) as err:
        pw.check_pretrained_weights(cfg.model, fetch=_offline)
    assert str(weights) in str(err.value) and KEY in str(err.value)
    weights.write_bytes(b'x')
    assert pw.check_pretrained_weights(
        cfg.model, fetch=_offline) == [str(weights)]


def test_a_fetched_or_cached_file_is_used(cache):
    cfg = Config.fromfile(NYUV2)
    fetched = []

    def fetch(url, dst):
        fetched.append(url)
        with open(dst, 'wb') as f:
            f.write(b'x')

    first = pw.check_pretrained_weights(cfg.model, fetch=fetch)
    assert first == [str(cache / 'resnet18_v1c-b5776b93.pth')]
    # mmengine's loader reads the same folder, so it will not download
    assert pw.weights_cache_dir() == str(cache)
    assert pw.check_pretrained_weights(cfg.model, fetch=_offline) == first
    assert len(fetched) == 1


def test_every_pretrained_form_is_found():
    model = dict(
        pretrained='open-mmlab://resnet50_v1c',
        backbone=dict(init_cfg=[
            dict(type='Kaiming'),
            dict(type='Pretrained', checkpoint='a.pth')
        ]),
        heads=dict(x=dict(init_cfg=dict(type='Pretrained', checkpoint='b'))))
    assert sorted(pw.find_pretrained(model)) == [
        ('model.backbone.init_cfg.1.checkpoint', 'a.pth'),
        ('model.heads.x.init_cfg.checkpoint', 'b'),
        ('model.pretrained', 'open-mmlab://resnet50_v1c'),
    ]
    with pytest.raises(ValueError, match='no model called "nope"'):
        pw.weights_url('open-mmlab://nope')


def test_other_loaders_schemes_are_left_to_them(cache):
    model = dict(
        backbone=dict(
            init_cfg=dict(type='Pretrained',
                          checkpoint='effnet-lite://lite0')))
    assert pw.check_pretrained_weights(model, fetch=_offline) == []
