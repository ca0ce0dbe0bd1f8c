"""The launch environment: no silent CPU training on a GPU machine, and a
check that runs once for all ranks."""
import os

import pytest
import torch
import torch.multiprocessing as mp
from tool_runner import free_port

from had_mm.utils import dist_env


def test_nvidia_gpus_torch_cannot_use_are_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES', raising=False)
    with pytest.raises(RuntimeError) as err:
        dist_env.check_gpus_usable(driver='535.104.05')
    line = str(err.value)
    assert '\n' not in line
    assert 'driver 535.104.05' in line and f'torch {torch.__version__}' in line
    assert (f'CUDA {torch.version.cuda}'
            if torch.version.cuda else 'a CPU build') in line
    # the CPU on purpose
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    dist_env.check_gpus_usable(driver='535.104.05')


def test_a_machine_without_nvidia_devices_keeps_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(dist_env, 'nvidia_driver', lambda: None)
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES', raising=False)
    dist_env.check_gpus_usable()


def _rank(rank, port, out):
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE='2')
    torch.distributed.init_process_group('gloo', rank=rank, world_size=2)
    calls = []

    def check():
        calls.append(rank)
        raise ValueError('data_root "x" does not exist')

    try:
        dist_env.run_on_rank0(check)
    except ValueError as err:
        torch.save(dict(calls=calls, error=str(err)), f'{out}/{rank}.pt')
    torch.distributed.destroy_process_group()


def test_a_check_runs_on_rank0_and_every_rank_raises_its_error(tmp_path):
    mp.spawn(_rank, args=(free_port(), str(tmp_path)), nprocs=2)
    results = [torch.load(tmp_path / f'{r}.pt') for r in (0, 1)]
    assert [r['calls'] for r in results] == [[0], []]
    assert {r['error'] for r in results} == {'data_root "x" does not exist'}
