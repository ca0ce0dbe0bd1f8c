"""tools/misc/print_config.py: the resolved config, options applied."""
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config
from tool_runner import REPO

SPEC = importlib.util.spec_from_file_location(
    'print_config', osp.join(REPO, 'tools', 'misc', 'print_config.py'))
print_config = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(print_config)
CONFIG = osp.join(REPO, 'configs', 'had',
                  'had_r18-d8-c64_synthetic-rooms-4tasks.py')


def test_resolved_with_options(tmp_path, capsys):
    saved = tmp_path / 'resolved.py'
    print_config.main([
        CONFIG, '--cfg-options', 'train_cfg.distill_weight=1.5',
        'model.heads.depth.max_depth=8.0', '--save-path',
        str(saved)
    ])
    out = capsys.readouterr().out
    assert "type='LifelongTrainLoop'" in out  # from the _base_ schedule
    assert 'distill_weight=1.5' in out and 'max_depth=8.0' in out
    cfg = Config.fromfile(str(saved))
    assert cfg.train_cfg.distill_weight == 1.5
    assert [p['task'] for p in cfg.train_cfg.phases
            ] == ['semantic', 'depth', 'normal', 'saliency']


def test_errors(capsys, tmp_path):
    with pytest.raises(SystemExit):
        print_config.main(['configs/nope.py'])
    assert 'configs/nope.py" does not exist' in capsys.readouterr().err
    typo = tmp_path / 'typo.py'
    typo.write_text(f"_base_ = ['{CONFIG}']\n"
                    "model = dict(heads=dict(depth=dict(type='DepthHaed')))\n")
    with pytest.raises(SystemExit):
        print_config.main([str(typo)])
    err = capsys.readouterr().err
    assert 'DepthHaed' in err and 'DepthHead' in err
