"""Every shipped config loads, names only known types and builds its model."""
import glob
import os.path as osp

import pytest
from mmengine.registry import init_default_scope
from tool_runner import REPO

from had_mm.apis import load_config
from had_mm.registry import MODELS

CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds(path):
    cfg = load_config(path)  # raises on an unknown type
    init_default_scope(cfg.get('default_scope', 'had_mm'))
    if 'teacher_ckpt' in cfg.model and not osp.isfile(cfg.model.teacher_ckpt):
        # distillers need a trained teacher: a clear error until there is
        with pytest.raises(FileNotFoundError, match='teacher checkpoint'):
            MODELS.build(cfg.model)
        return
    model = MODELS.build(cfg.model)
    train_cfg = cfg.get('train_cfg', {})
    if train_cfg.get('type') == 'LifelongTrainLoop':
        tasks = [p['task'] for p in train_cfg['phases']]
        assert tasks and set(tasks) <= set(model.heads)
        assert set(cfg.val_evaluator['tasks']) >= set(tasks)
    if 'heads' in cfg.model:
        assert set(model.heads) == set(
            cfg.train_dataloader.dataset.tasks) or train_cfg.get(
                'type') == 'LifelongTrainLoop'
