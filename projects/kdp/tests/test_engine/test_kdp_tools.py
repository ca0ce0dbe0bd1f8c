"""The project tools: tiny ViT pre-training, ImageNet-R split, table."""
import importlib.util
import os.path as osp

import pytest

TOOLS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools')


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(
        f'kdp_tool_{name}', osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pretrained_tiny_vit_loads_into_the_tiny_config(tmp_path):
    from mmengine.config import Config

    from had_mm.registry import MODELS
    from projects.kdp.kdp.models.utils import load_vit_checkpoint
    tool = _tool('pretrain_tiny_vit')
    tool.main([
        '--which', 'student', '--epochs', '1', '--num-classes', '4',
        '--num-per-class', '4', '--out-dir',
        str(tmp_path)
    ])
    path = osp.join(str(tmp_path), 'tiny-vit-s.pth')
    assert osp.isfile(path)
    cfg = Config.fromfile(tool.MODEL_CFG)
    vit = MODELS.build(cfg.tiny_vit_s.to_dict())
    load_vit_checkpoint(vit, path, 'backbone_checkpoint')
    # the teacher-size ViT refuses it
    with pytest.raises(ValueError, match='another ViT size'):
        load_vit_checkpoint(
            MODELS.build(cfg.tiny_vit_b.to_dict()), path,
            'backbone_checkpoint')


def test_imagenet_r_split_tool(tmp_path):
    tool = _tool('make_imagenet_r_split')
    for wnid in ('n1', 'n2'):
        folder = tmp_path / 'imagenet-r' / wnid
        folder.mkdir(parents=True)
        for i in range(10):
            (folder / f'{i}.jpg').write_bytes(b'')
    tool.main([str(tmp_path), '--seed', '1'])
    train = (tmp_path / 'train.txt').read_text().split()
    test = (tmp_path / 'test.txt').read_text().split()
    assert len(train) == 16 and len(test) == 4
    assert not set(train) & set(test)
    assert sum(line.startswith('n1/') for line in test) == 2


def test_experiment_table():
    # the benchmark's table: mean ± 95 % CI (t) over the seeds
    tool = _tool('experiment')

    def report(acc, fgt, teacher=None):
        out = dict(student=dict(average_accuracy=acc, forgetting=fgt))
        if teacher is not None:
            out['teacher'] = dict(average_accuracy=teacher)
        return out

    table = tool.make_table(
        dict(
            coda=dict(
                alone=[report(40.0, 10.0),
                       report(50.0, 20.0)],
                kdp=[report(60.0, 5.0, 70.0),
                     report(60.0, 5.0, 80.0)])))
    lines = table.splitlines()
    assert len(lines) == 4
    # t_{0.975, 1} = 12.706: 12.706 * std(40, 50) / sqrt(2) = 63.53
    assert lines[2] == ('| CODA-Prompt | student alone | 2 | 45.00 ± 63.53 '
                        '| 15.00 ± 63.53 | - | 0, 1 |')
    assert '| KDP | 2 | 60.00 ± 0.00 | 5.00 ± 0.00 | 75.00 ± 63.53 |' \
        in lines[3]


def test_bad_schedule_is_one_line_before_training(tmp_path):
    """The tools check the continual loop's schedule on the config, before
    any runner or data is built."""
    import os
    import subprocess
    import sys
    repo = osp.dirname(osp.dirname(osp.dirname(TOOLS)))
    tiny = osp.join(osp.dirname(TOOLS), 'tests', 'data', 'tiny_kdp.py')
    cfg = tmp_path / 'bad.py'
    cfg.write_text(f"_base_ = ['{tiny}']\n"
                   'train_cfg = dict(max_iters=2, max_epochs=1)\n')
    proc = subprocess.run([
        sys.executable, 'tools/train.py',
        str(cfg), '--work-dir',
        str(tmp_path / 'w')
    ],
                          cwd=repo,
                          capture_output=True,
                          text=True,
                          env=dict(os.environ, PYTHONPATH=repo))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert 'exactly one of max_epochs or max_iters' in proc.stderr


def test_a_missing_tiny_vit_names_the_tool_that_makes_it(tmp_path):
    """A fresh clone has no pre-trained tiny ViT: the error names
    pretrain_tiny_vit.py for the configs' checkpoints, and only the missing
    file for any other path."""
    from mmengine.config import Config

    from projects.kdp.kdp.models.utils import load_vit_checkpoint
    tool = _tool('pretrain_tiny_vit')
    cfg = Config.fromfile(tool.MODEL_CFG)  # the paths the tool writes
    for path in (cfg.student_checkpoint, cfg.teacher_checkpoint):
        with pytest.raises(FileNotFoundError) as err:
            load_vit_checkpoint(None, path, 'backbone_checkpoint')
        assert str(err.value) == (
            f'backbone_checkpoint: checkpoint file "{path}" does not exist; '
            'make it with `PYTHONPATH=. python projects/kdp/tools/'
            'pretrain_tiny_vit.py`')
    other = str(tmp_path / 'mine.pth')
    with pytest.raises(FileNotFoundError) as err:
        load_vit_checkpoint(None, other, 'backbone_checkpoint')
    assert str(err.value).endswith(f'"{other}" does not exist')
