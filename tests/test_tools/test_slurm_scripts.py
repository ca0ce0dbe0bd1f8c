"""tools/slurm_train.sh and slurm_test.sh: the srun command line they build
(recorded by a stub srun on the PATH), and --launcher slurm reaching
mmengine's Slurm initialisation."""
import json
import os
import os.path as osp

import pytest
import torch
from tool_runner import REPO, TINY_SEG, run_tool

HELPERS = osp.join(REPO, 'tests', 'test_tools', 'helpers')
STUB = osp.join(HELPERS, 'slurm_stub')
SITE = osp.join(HELPERS, 'slurm_site')


def _run(script, args, tmp_path, **env):
    log, init = tmp_path / 'srun_args', tmp_path / 'slurm_init.json'
    full_env = dict(
        PATH=STUB + os.pathsep + os.environ['PATH'],
        PYTHONPATH=SITE + os.pathsep + REPO,
        SRUN_STUB_LOG=str(log),
        HAD_MM_FAKE_SLURM_INIT=str(init))
    full_env.update(env)
    proc = run_tool(['bash', f'tools/{script}', *args], env=full_env)
    srun = log.read_text().splitlines() if log.exists() else None
    slurm_init = json.loads(init.read_text()) if init.exists() else None
    return proc, srun, slurm_init


def _srun_options(gpus, per_node, cpus):
    return [
        '-p', 'gpu_part', '--job-name=had', f'--gres=gpu:{per_node}',
        f'--ntasks={gpus}', f'--ntasks-per-node={per_node}',
        f'--cpus-per-task={cpus}', '--kill-on-bad-exit=1'
    ]


def test_slurm_train_command_line(tmp_path):
    work = str(tmp_path / 'work')
    proc, srun, init = _run(
        'slurm_train.sh',
        ['gpu_part', 'had', TINY_SEG, work, '--cfg-options', 'a.b=1'],
        tmp_path,
        GPUS='8',
        GPUS_PER_NODE='4',
        CPUS_PER_TASK='3',
        SRUN_ARGS='--quotatype=auto --time=10')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    python = srun[10]
    assert srun == _srun_options(8, 4, 3) + [
        '--quotatype=auto', '--time=10', python, '-u',
        osp.join(REPO, 'tools', 'train.py'), TINY_SEG, f'--work-dir={work}',
        '--launcher=slurm', '--cfg-options', 'a.b=1'
    ]
    assert osp.basename(python).startswith('python')
    # tools/train.py got as far as mmengine's Slurm initialisation, with
    # the tasks srun gives (NCCL: one GPU per task)
    assert init == dict(
        backend='nccl',
        SLURM_PROCID='0',
        SLURM_NTASKS='8',
        SLURM_NODELIST='node0')


def test_slurm_test_command_line_and_defaults(tmp_path):
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict={}), ckpt)
    work = f'--work-dir={tmp_path / "work"}'
    proc, srun, init = _run('slurm_test.sh',
                            ['gpu_part', 'had', TINY_SEG,
                             str(ckpt), work], tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    # MMSegmentation's defaults: 4 GPUs, 4 per node, 5 CPUs per task
    assert srun[:8] == _srun_options(4, 4, 5)
    assert srun[9:] == [
        '-u',
        osp.join(REPO, 'tools', 'test.py'), TINY_SEG,
        str(ckpt), '--launcher=slurm', work
    ]
    assert init['backend'] == 'nccl' and init['SLURM_NTASKS'] == '4'


@pytest.mark.parametrize('env,args,needle', [
    (dict(GPUS='two'), None, "GPUS must be a positive integer, got 'two'"),
    (dict(CPUS_PER_TASK='0'), None, 'CPUS_PER_TASK must be'),
    ({}, ['p', 'j', 'configs/nope.py', 'w'], "'configs/nope.py' does not"),
    ({}, ['p', 'j'], 'usage:'),
    (dict(PATH='/usr/bin:/bin'), None, 'srun is not on the PATH'),
])
def test_slurm_bad_input_one_line(tmp_path, env, args, needle):
    args = args or ['p', 'j', TINY_SEG, str(tmp_path / 'w')]
    proc, srun, _ = _run('slurm_train.sh', args, tmp_path, **env)
    assert proc.returncode == 2
    assert srun is None  # nothing was submitted
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
