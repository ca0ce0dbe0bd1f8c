"""The benchmark drivers' shared runner: logged child runs, the job pool's
dependencies, and the checkpoint fingerprint."""
import sys

import pytest
import torch

from had_mm.utils.benchmark_grid import (check_fingerprint, grid_command,
                                         keep_one_checkpoint, run_jobs,
                                         run_logged, state_digest)


def test_run_logged_appends_output_and_sets_the_threads(tmp_path):
    log = tmp_path / 'sub' / 'run.log'
    cmd = [
        sys.executable, '-c',
        'import os, sys; print(os.environ["OMP_NUM_THREADS"]); sys.exit(3)'
    ]
    code, cpu = run_logged(cmd, str(log), 2, str(tmp_path))
    code2, _ = run_logged(cmd, str(log), 1, str(tmp_path))
    assert (code, code2) == (3, 3) and cpu >= 0
    assert log.read_text().split() == ['2', '1']


def test_run_jobs_waits_for_needs_and_skips_after_a_failure():
    order = []

    def work(job):
        order.append(job['key'])
        if job['key'] == 'bad':
            raise RuntimeError('bad failed to train')

    jobs = [
        dict(key='enc'),
        dict(key='bad'),
        dict(key='a', needs=['enc']),
        dict(key='b', needs=['bad']),
    ]
    errors = run_jobs(jobs, 2, work)
    assert sorted(errors) == ['b not run: bad failed', 'bad failed to train']
    assert 'b' not in order and order.index('enc') < order.index('a')
    with pytest.raises(ValueError, match='does not come before it'):
        run_jobs([dict(key='a', needs=['b']), dict(key='b')], 1, work)


def test_fingerprint_is_over_tensors_and_refuses_another(tmp_path):
    ckpt, record = tmp_path / 'enc.pth', tmp_path / 'rec' / 'enc.json'
    torch.save({'w': torch.arange(4.)}, ckpt)
    first = state_digest(str(ckpt))
    torch.save({'state_dict': {'w': torch.arange(4.)}}, ckpt)
    assert state_digest(str(ckpt)) == first  # a wrapped state dict
    check_fingerprint(str(record), str(ckpt), iters=600)
    assert '"iters": 600' in record.read_text()
    check_fingerprint(str(record), str(ckpt))
    torch.save({'w': torch.arange(4.) * 2}, ckpt)
    with pytest.raises(RuntimeError, match='differs from the checkpoint'):
        check_fingerprint(str(record), str(ckpt))


def test_keep_one_checkpoint_makes_once_then_reuses_the_archive(tmp_path):
    ckpt, archive = tmp_path / 'w' / 'enc.pth', tmp_path / 'r' / 'enc.pth'
    made = []

    def make(value=1.):
        made.append(value)
        ckpt.parent.mkdir(exist_ok=True)
        torch.save({'w': torch.full((3, ), value)}, ckpt)

    keep_one_checkpoint(str(ckpt), str(archive), make, iters=5)
    assert made == [1.] and archive.is_file()
    assert '"iters": 5' in (tmp_path / 'r' / 'enc.json').read_text()
    ckpt.unlink()  # a fresh machine: the archive serves, nothing is made
    keep_one_checkpoint(str(ckpt), str(archive), make)
    assert made == [1.] and torch.load(ckpt)['w'].tolist() == [1., 1., 1.]
    ckpt.unlink()
    archive.unlink()  # re-made on another CPU: refused, not mixed in
    with pytest.raises(RuntimeError, match='differs from the checkpoint'):
        keep_one_checkpoint(str(ckpt), str(archive), lambda: make(2.))


def test_grid_command_names_the_training_command_not_the_report():
    argv = [
        '--jobs', '2', '--report-only', '--seeds', '0', '--work-dir=/w',
        '--results-dir', '/r', '--threads', '1', '--regimes', 'imagenet'
    ]
    # what the runs measure stays; how and where they ran goes
    assert grid_command('benchmarks/x.py', argv) == \
        'python benchmarks/x.py --seeds 0 --regimes imagenet'
