"""tools/analysis/get_flops.py: per-part counts and the lifelong table."""
import importlib.util
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from tool_runner import REPO, TINY_SEG

SPEC = importlib.util.spec_from_file_location(
    'get_flops', osp.join(REPO, 'tools', 'analysis', 'get_flops.py'))
get_flops = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(get_flops)
TINY_LIFELONG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


class _Head(nn.Module):

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, *feats):
        return self.head(list(feats))


def _flops(module, *inputs):
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False)
    return analyzer.total()


def test_parts_match_separate_counts():
    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(TINY_LIFELONG).model).eval()
    parts = get_flops.count(model, (32, 40), ['semantic', 'normal'])
    assert set(parts) == {'backbone', 'semantic', 'normal'}
    x = torch.zeros(1, 3, 32, 40)
    with torch.no_grad():
        assert parts['backbone']['flops'] == _flops(model.backbone, x)
        feats = model.backbone(x)
        for task in ('semantic', 'normal'):
            head = model.heads[task]
            assert parts[task]['flops'] == _flops(_Head(head), *feats) > 0
            assert parts[task]['params'] == sum(p.numel()
                                                for p in head.parameters())
    rows = get_flops.lifelong_costs(
        dict(backbone=dict(flops=100), a=dict(flops=10), b=dict(flops=20)),
        ['a', 'b'])
    assert rows == [
        dict(task='a', student=110, teacher=0, iteration=330),
        dict(task='b', student=130, teacher=110, iteration=500)
    ]


def test_cli_lifelong_and_plain_configs(capsys):
    get_flops.main([TINY_LIFELONG, '--shape', '32', '40'])
    out = capsys.readouterr().out
    assert 'input 3x32x40' in out
    for part in ('backbone', 'semantic', 'depth', 'normal', 'total'):
        assert f'\n{part} ' in out, out
    assert 'per batch of 2' in out
    for phase in ('1 semantic', '2 depth', '3 normal'):
        assert f'\n{phase} ' in out
    get_flops.main([TINY_LIFELONG, '--shape', '32', '40', '--tasks', 'depth'])
    out = capsys.readouterr().out
    assert '\ndepth ' in out and '\nsemantic ' not in out.split('phase')[0]
    # a plain mmseg segmentor: backbone and decode head, no phases
    get_flops.main([TINY_SEG, '--shape', '32', '40'])
    out = capsys.readouterr().out
    assert '\nsemantic ' in out and 'lifelong' not in out


def test_cli_errors(capsys):
    with pytest.raises(SystemExit):
        get_flops.main([TINY_LIFELONG, '--tasks', 'saliency'])
    err = capsys.readouterr().err
    assert 'no head for task(s) saliency' in err
    with pytest.raises(SystemExit):
        get_flops.main(['configs/nope.py'])
    assert 'configs/nope.py" does not exist' in capsys.readouterr().err
