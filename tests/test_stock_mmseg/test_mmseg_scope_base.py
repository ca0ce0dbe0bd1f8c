"""``_base_ = ['mmseg::...']``, the standard way to inherit a stock config,
resolves in this environment (mmengine finds the installed mmseg's configs
through ``pkg_resources``, which setuptools < 70 provides)."""
import importlib.util

import pytest
from stock_helpers import DEEPLABV3, stock_config

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec('pkg_resources') is None,
    reason="no pkg_resources (setuptools >= 70): mmengine cannot resolve "
    "'mmseg::' configs; pin setuptools<70 in the environment")


def test_inherit_a_stock_config_by_its_mmseg_name(tmp_path):
    from mmengine.config import Config
    path = tmp_path / 'my_deeplabv3.py'
    path.write_text(f"_base_ = ['mmseg::{DEEPLABV3}']\n"
                    "custom_imports = dict(imports=['had_mm'])\n"
                    'model = dict(decode_head=dict(num_classes=13))\n')
    cfg = Config.fromfile(str(path))
    stock = stock_config(DEEPLABV3)
    assert cfg.default_scope == 'mmseg'
    assert cfg.model.backbone.depth == 18
    assert cfg.model.decode_head.num_classes == 13
    assert cfg.model.decode_head.type == 'ASPPHead'
    # mmengine marks what it read from mmseg with _scope_='mmseg'
    assert [(p['type'], p.get('_scope_')) for p in cfg.train_pipeline
            ] == [(p['type'], 'mmseg') for p in stock.train_pipeline]
