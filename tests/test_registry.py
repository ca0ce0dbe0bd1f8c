import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import had_mm  # noqa: F401
from had_mm.registry import DATASETS, LOOPS, METRICS, MODELS, RUNNERS


def test_had_mm_registries_are_children_of_mmseg():
    import mmseg.registry as mmseg_registry
    assert MODELS.scope == 'had_mm'
    assert MODELS.parent is mmseg_registry.MODELS
    assert DATASETS.parent is mmseg_registry.DATASETS
    assert METRICS.parent is mmseg_registry.METRICS
    assert LOOPS.parent is mmseg_registry.LOOPS
    assert 'HADRunner' in RUNNERS.module_dict


def test_one_config_three_scopes(tmp_path):
    """had_mm type, a plain mmseg type and an mmpretrain type by prefix."""
    cfg_file = tmp_path / 'three_scopes.py'
    cfg_file.write_text(
        "default_scope = 'had_mm'\n"
        "runner = dict(type='HADRunner')\n"
        "head = dict(type='ASPPHead', in_channels=8, channels=4,\n"
        "            num_classes=3, dilations=(1, 2))\n"
        "backbone = dict(type='mmpretrain.ConvNeXt', arch='atto',\n"
        "                out_indices=(3, ))\n")
    cfg = Config.fromfile(str(cfg_file))
    init_default_scope(cfg.default_scope)
    head = MODELS.build(cfg.head)
    backbone = MODELS.build(cfg.backbone)
    assert type(head).__name__ == 'ASPPHead'
    assert type(head).__module__.startswith('mmseg.')
    assert type(backbone).__module__.startswith('mmpretrain.')
    assert RUNNERS.get(cfg.runner.type).__module__.startswith('had_mm.')


def test_custom_imports_from_a_stock_mmseg_config(tmp_path):
    """A config in scope mmseg reaches had_mm types via custom_imports."""
    from mmseg.registry import RUNNERS as MMSEG_RUNNERS
    cfg_file = tmp_path / 'stock.py'
    cfg_file.write_text("default_scope = 'mmseg'\n"
                        "custom_imports = dict(imports=['had_mm'],\n"
                        "                      allow_failed_imports=False)\n"
                        "runner_type = 'had_mm.HADRunner'\n")
    cfg = Config.fromfile(str(cfg_file))
    init_default_scope(cfg.default_scope)
    cls = MMSEG_RUNNERS.get(cfg.runner_type)
    assert cls is not None and cls.__name__ == 'HADRunner'
    assert RUNNERS.get(cfg.runner_type) is cls


def test_unknown_type_is_reported_with_a_suggestion(tmp_path):
    from had_mm.apis import load_config
    cfg_file = tmp_path / 'typo.py'
    cfg_file.write_text("default_scope = 'had_mm'\n"
                        "model = dict(type='EncoderDecoder',\n"
                        "    decode_head=dict(type='ASPPHaed'))\n")
    with pytest.raises(ValueError) as err:
        load_config(str(cfg_file))
    msg = str(err.value)
    assert 'model.decode_head' in msg and 'ASPPHaed' in msg
    assert 'ASPPHead' in msg  # the close match


def test_missing_config_file():
    from had_mm.apis import load_config
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_config(osp.join('configs', 'nope.py'))


def test_register_all_modules_makes_had_mm_current_again():
    """A second call after another scope became current makes had_mm the
    default scope again, so ``METRICS.build`` finds had_mm's metrics."""
    from mmengine.registry import DefaultScope

    from had_mm.utils import register_all_modules
    register_all_modules()
    init_default_scope('mmseg')
    try:
        register_all_modules()
        assert DefaultScope.get_current_instance().scope_name == 'had_mm'
        metric = METRICS.build(dict(type='DepthErrorMetric'))
    finally:
        init_default_scope('had_mm')
    assert type(metric).__name__ == 'DepthErrorMetric'
