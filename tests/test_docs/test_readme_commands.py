"""The README's commands run as written, at tiny size: the lifelong train,
resume, test and inference lines of its Commands block and its Python
block, on a small synthetic-rooms set with 2 iterations per phase (marked
slow: several tool runs). The 8-GPU and Slurm lines are the tutorial's
(tests/test_docs/test_tutorials.py) and need their launchers; the HeteroAKD
and KDP lines have their own tests (tests/test_tools, projects/kdp/tests).
"""
import os.path as osp
import re
import shlex
import sys

import pytest
from tool_runner import REPO, run_tool

CONFIG = 'configs/had/synthetic_4tasks.py'


def _readme_block(lang: str) -> str:
    text = open(osp.join(REPO, 'README.md')).read()
    section = text.split('## Commands', 1)[1].split('\n## ', 1)[0]
    return re.findall(rf'```{lang}\n(.*?)```', section, re.S)[0]


def _tiny(data_root: str, train: bool) -> list:
    opts = [
        f'{split}_dataloader.dataset.data_root={data_root}'
        for split in (('train', 'val', 'test') if train else ('test', ))
    ]
    if train:
        opts += [f'train_cfg.phases.{i}.max_iters=2' for i in range(4)]
        opts += ['train_dataloader.batch_size=2']
    return ['--cfg-options'] + opts


@pytest.mark.slow
def test_readme_commands_run(synthetic_rooms_root, tmp_path):
    image = osp.join(synthetic_rooms_root, 'image', 'test', '00000.png')
    work = str(tmp_path / 'had')
    ran = []
    for line in _readme_block('bash').splitlines():
        line = line.strip()
        if not line or line.startswith('#') or CONFIG not in line:
            continue
        line = line.replace('work_dirs/had',
                            work).replace('room.png', image).replace(
                                '--out-dir out', f'--out-dir {tmp_path}/out')
        args = shlex.split(line)
        if args[0] != 'python':  # a launcher: the tutorial's test runs it
            continue
        args[0] = sys.executable
        if 'tools/train.py' in line:
            args += _tiny(synthetic_rooms_root, train=True)
        elif 'tools/test.py' in line:
            args += _tiny(synthetic_rooms_root, train=False)
            args[args.index('--show-dir') + 1] = str(tmp_path / 'panels')
            if '--work-dir' not in args:
                args += ['--work-dir', str(tmp_path / 'test')]
        proc = run_tool(args, timeout=900)
        assert proc.returncode == 0, (line, proc.stderr[-3000:])
        ran.append(args[1])
    assert ran == [
        'tools/train.py', 'tools/train.py', 'tools/test.py',
        'demo/image_demo.py'
    ], ran
    assert osp.isfile(osp.join(work, 'phase_4_saliency.pth'))
    assert osp.isfile(osp.join(tmp_path, 'out', 'vis', '00000.png'))

    code = _readme_block('python').replace('work_dirs/had', work).replace(
        "'room.png'", repr(image)).replace("out_dir='outputs'",
                                           f"out_dir='{tmp_path}/outputs'")
    code += '\nassert depth.ndim == 2 and (depth > 0).all()\n'
    proc = run_tool([sys.executable, '-c', code], timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
