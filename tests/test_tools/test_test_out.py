"""``tools/test.py --out DIR`` writes prediction files, for every config
family: lifelong multi-task, single-task dense, HeteroAKD segmentation and
the projects that go through tools/test.py."""
import glob
import importlib.util
import os.path as osp
import sys
from typing import Optional

import pytest
import torch
from tool_runner import REPO, TINY_SEG

from had_mm.checkpoint import read_checkpoint

CONFIGS = osp.join(REPO, 'tests', 'data', 'configs')
TINY_LIFELONG = osp.join(CONFIGS, 'tiny_lifelong.py')
TINY_HETEROAKD = osp.join(CONFIGS, 'tiny_heteroakd.py')
TINY_TEACHER = osp.join(CONFIGS, 'tiny_heteroakd_teacher.py')
SINGLE_DEPTH = osp.join(REPO, 'configs', 'dense',
                        'single-depth_r18-d8-c64_synthetic-rooms.py')
HAD_IN_MMSEG = osp.join(REPO, 'projects', 'had_in_mmseg', 'tests', 'data',
                        'tiny_had.py')
EDGE = osp.join(REPO, 'projects', 'edge_task', 'tests', 'data',
                'tiny_5tasks_edge.py')
KDP = osp.join(REPO, 'projects', 'kdp', 'tests', 'data', 'tiny_kdp.py')


def _checkpoint(config: str,
                path: str,
                cfg_options: Optional[dict] = None,
                **extra) -> str:
    """A checkpoint of ``config``'s model with its initial weights."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    if REPO not in sys.path:
        sys.path.insert(0, REPO)  # the projects' custom_imports
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options or {})
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'had_mm')):
        with MODELS.switch_scope_and_registry(None) as registry:
            model = registry.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict(), **extra), path)
    return path


def _test_main():
    """tools/test.py's main, run in this process (a subprocess start costs
    tens of seconds on a busy machine)."""
    spec = importlib.util.spec_from_file_location(
        'test_tool', osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _test(config, ckpt, tmp_path, capsys, *opts):
    """Run tools/test.py --out; the output folder and everything printed."""
    out = tmp_path / 'out'
    _test_main()([
        config, ckpt, '--out',
        str(out), '--work-dir',
        str(tmp_path / 'work'), *(['--cfg-options', *opts] if opts else [])
    ])
    captured = capsys.readouterr()
    return out, captured.out + captured.err


def _roots(root):
    return [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]


def _test_images(root):
    return sorted(
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(root, 'image', 'test', '*.png')))


def test_out_lifelong_multi_task(synthetic_rooms_root, tmp_path, capsys):
    """A lifelong phase-1 checkpoint: files for every test image and task,
    and a note that depth and normal were never trained."""
    ckpt = _checkpoint(
        TINY_LIFELONG,
        str(tmp_path / 'phase_1_semantic.pth'),
        lifelong=dict(
            tasks=['semantic', 'depth', 'normal'], phase_iters=[3, 3, 3]))
    torch.save(dict(read_checkpoint(ckpt), meta=dict(epoch=1, iter=3)), ckpt)
    out, log = _test(TINY_LIFELONG, ckpt, tmp_path, capsys,
                     *_roots(synthetic_rooms_root))
    assert 'semantic/mIoU' in log
    note = ('note: the checkpoint has not trained the head(s) of depth, '
            'normal (learnt: semantic)')
    assert log.count(note) == 2  # before testing and next to the scores
    assert log.rindex(note) > log.index('semantic/mIoU')
    for name in _test_images(synthetic_rooms_root):
        for suffix in ('_semantic.png', '_depth.png', '_depth.npy',
                       '_normal.png'):
            assert (out / f'{name}{suffix}').is_file(), name + suffix


def test_out_single_task_dense(synthetic_rooms_root, tmp_path, capsys):
    ckpt = _checkpoint(SINGLE_DEPTH, str(tmp_path / 'ckpt.pth'))
    out, log = _test(SINGLE_DEPTH, ckpt, tmp_path, capsys,
                     *_roots(synthetic_rooms_root))
    assert 'depth/rmse' in log
    names = _test_images(synthetic_rooms_root)
    assert sorted(p.name for p in out.iterdir()) == sorted(f'{n}_depth{ext}'
                                                           for n in names
                                                           for ext in ('.png',
                                                                       '.npy'))


def test_out_heteroakd_segmentation(synthetic_rooms_root, tmp_path, capsys):
    teacher = _checkpoint(TINY_TEACHER, str(tmp_path / 'teacher.pth'))
    opts = dict({'model.teacher_ckpt': teacher})
    ckpt = _checkpoint(TINY_HETEROAKD, str(tmp_path / 'ckpt.pth'), opts)
    out, log = _test(TINY_HETEROAKD, ckpt, tmp_path, capsys,
                     f'model.teacher_ckpt={teacher}',
                     *_roots(synthetic_rooms_root))
    assert 'mIoU' in log
    assert sorted(p.stem
                  for p in out.iterdir()) == _test_images(synthetic_rooms_root)


def test_out_plain_mmseg_segmentor(synthetic_rooms_root, tmp_path, capsys):
    ckpt = _checkpoint(TINY_SEG, str(tmp_path / 'ckpt.pth'))
    out, _ = _test(TINY_SEG, ckpt, tmp_path, capsys,
                   *_roots(synthetic_rooms_root))
    assert len(list(out.iterdir())) == len(_test_images(synthetic_rooms_root))


def test_out_project_had_in_mmseg(synthetic_rooms_root, tmp_path, capsys):
    """HAD around a stock EncoderDecoder: mmseg's IoUMetric underneath."""
    ckpt = _checkpoint(HAD_IN_MMSEG, str(tmp_path / 'had.pth'))
    out, log = _test(HAD_IN_MMSEG, ckpt, tmp_path, capsys,
                     *_roots(synthetic_rooms_root))
    assert 'mIoU_old' in log
    assert sorted(p.stem
                  for p in out.iterdir()) == _test_images(synthetic_rooms_root)


def test_out_project_edge_task(synthetic_rooms_root, tmp_path, capsys):
    """A task registered by a plug-in: its predictions as .npy."""
    ckpt = _checkpoint(EDGE, str(tmp_path / 'edge.pth'))
    out, _ = _test(EDGE, ckpt, tmp_path, capsys, *_roots(synthetic_rooms_root))
    for name in _test_images(synthetic_rooms_root):
        assert (out / f'{name}_edge.npy').is_file()
        assert (out / f'{name}_saliency.png').is_file()


def test_out_project_kdp(tmp_path, capsys):
    """Class-incremental classification: one CSV row per test image."""
    ckpt = _checkpoint(KDP, str(tmp_path / 'kdp.pth'))
    out, log = _test(KDP, ckpt, tmp_path, capsys)
    assert 'accuracy' in log
    rows = (out / 'predictions.csv').read_text().splitlines()
    assert rows[0] == 'index,prediction,label,task' and len(rows) == 17


def test_out_refuses_a_metric_without_output_dir(synthetic_rooms_root,
                                                 tmp_path):
    from mmengine.config import Config

    from had_mm.apis import set_test_output_dir
    cfg = Config(
        dict(
            default_scope='had_mm',
            test_evaluator=[
                dict(type='MultiTaskMetric', tasks=['depth']),
                dict(type='mmseg.IoUMetric')
            ]))
    set_test_output_dir(cfg, 'x')
    assert [m['output_dir'] for m in cfg.test_evaluator] == ['x', 'x']
    from mmengine.evaluator import BaseMetric

    from had_mm.registry import METRICS

    @METRICS.register_module(force=True)
    class NoFilesMetric(BaseMetric):

        def process(self, data_batch, data_samples):
            pass

        def compute_metrics(self, results):
            return {}

    cfg = Config(dict(test_evaluator=dict(type='NoFilesMetric')))
    with pytest.raises(ValueError, match='NoFilesMetric writes no'):
        set_test_output_dir(cfg, 'x')
