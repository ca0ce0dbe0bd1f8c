"""End-to-end tests of tools/train.py, tools/dist_train.sh and --resume."""
import datetime
import os.path as osp
import re

import pytest
import torch
from tool_runner import TINY_SEG, free_port, latest_run_logs, run_tool

LOSS_RE = re.compile(r'Iter\(train\) \[\s*(\d+)/\d+\].*?\bloss: ([\d.]+)')


def _losses(log_text: str) -> dict:
    return {int(i): float(v) for i, v in LOSS_RE.findall(log_text)}


def _weights(path: str) -> dict:
    return torch.load(path, map_location='cpu')['state_dict']


def _train(work_dir, data_root, *extra, dist_procs=0):
    opts = [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}'
    ]
    if dist_procs:
        cmd = [
            'bash', 'tools/dist_train.sh', TINY_SEG,
            str(dist_procs), '--work-dir',
            str(work_dir)
        ]
        env = {'PORT': str(free_port())}
    else:
        cmd = [
            'python', 'tools/train.py', TINY_SEG, '--work-dir',
            str(work_dir)
        ]
        env = None
    cmd[0] = cmd[0] if cmd[0] == 'bash' else __import__('sys').executable
    proc = run_tool(cmd + list(extra) + opts[:1] + opts[1:], env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_two_process_cpu_training_matches_one_process(synthetic_rooms_root,
                                                      tmp_path):
    """2 ranks x 2 images (gloo) == 1 process x 4 images, step by step."""
    single = tmp_path / 'single'
    _train(single, synthetic_rooms_root, '--cfg-options',
           'train_cfg.max_iters=3', 'train_dataloader.batch_size=4')
    dist = tmp_path / 'dist'
    # log_level DEBUG makes every rank keep its own log file.
    _train(
        dist,
        synthetic_rooms_root,
        '--cfg-options',
        'train_cfg.max_iters=3',
        'train_dataloader.batch_size=2',
        'log_level=DEBUG',
        dist_procs=2)
    single_log = latest_run_logs(single)
    rank_logs = latest_run_logs(dist, '*rank*.log')
    assert len(single_log) == 1
    assert len(rank_logs) == 2, rank_logs  # both ranks ran
    ref = _losses(open(single_log[0]).read())
    per_rank = [_losses(open(p).read()) for p in rank_logs]
    assert sorted(ref) == [1, 2, 3]
    for it in ref:
        # each rank logs the loss of its half of the global batch
        mean = (per_rank[0][it] + per_rank[1][it]) / 2
        assert mean == pytest.approx(ref[it], abs=2e-4), (it, per_rank)
    assert per_rank[0][1] != per_rank[1][1]  # ranks saw different images
    w_single = _weights(str(single / 'iter_3.pth'))
    w_dist = _weights(str(dist / 'iter_3.pth'))
    assert w_single.keys() == w_dist.keys()
    for key in w_single:
        torch.testing.assert_close(
            w_dist[key], w_single[key], atol=1e-5, rtol=1e-4, msg=key)


def test_resume_equals_uninterrupted(synthetic_rooms_root, tmp_path):
    full = tmp_path / 'full'
    _train(full, synthetic_rooms_root)
    part = tmp_path / 'part'
    _train(part, synthetic_rooms_root, '--cfg-options',
           'train_cfg.max_iters=3')
    # the interrupted run continues to the full schedule
    proc = _train(part, synthetic_rooms_root, '--resume')
    assert 'resumed epoch: 0, iter: 3' in proc.stdout + proc.stderr
    w_full = _weights(str(full / 'iter_6.pth'))
    w_resumed = _weights(str(part / 'iter_6.pth'))
    for key in w_full:
        torch.testing.assert_close(w_resumed[key], w_full[key], msg=key)
    # the optimizer state was restored too (Adam's step counts)
    opt_full = torch.load(str(full / 'iter_6.pth'))['optimizer']
    opt_res = torch.load(str(part / 'iter_6.pth'))['optimizer']
    steps = [float(s['step']) for s in opt_full['state'].values()]
    assert steps and all(s == 6 for s in steps)
    assert [float(s['step']) for s in opt_res['state'].values()] == steps


def test_checkpoints_are_loaded_weights_only(synthetic_rooms_root, tmp_path):
    """Our checkpoints load with weights_only=True; foreign pickles don't."""
    work = tmp_path / 'w'
    _train(work, synthetic_rooms_root, '--cfg-options',
           'train_cfg.max_iters=3')
    ckpt = torch.load(str(work / 'iter_3.pth'), weights_only=True)
    assert 'message_hub' in ckpt and 'state_dict' in ckpt

    bad = tmp_path / 'foreign.pth'
    # a pickled object outside the allow-list, as older codebases save
    torch.save({'state_dict': {}, 'time': datetime.datetime.now()}, str(bad))
    proc = run_tool([
        __import__('sys').executable, 'tools/train.py', TINY_SEG, '--work-dir',
        str(tmp_path / 'x'), '--cfg-options', f'load_from={bad}',
        f'train_dataloader.dataset.data_root={synthetic_rooms_root}',
        f'val_dataloader.dataset.data_root={synthetic_rooms_root}',
        f'test_dataloader.dataset.data_root={synthetic_rooms_root}'
    ])
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert 'needs full unpickling' in out and 'datetime' in out
    assert 'Traceback' not in out
    assert 'extract_weights.py' in out
    assert osp.isfile('tools/misc/extract_weights.py')
