"""The HeteroAKD benchmark's table over finished runs (no training)."""
import importlib.util
import json
import os.path as osp

from tool_runner import REPO

_spec = importlib.util.spec_from_file_location(
    'heteroakd_synthetic',
    osp.join(REPO, 'benchmarks', 'heteroakd_synthetic.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _finished(work_dir, name, miou, iters=2):
    run = work_dir / name
    (run / '20260101_000000' / 'vis_data').mkdir(parents=True)
    (run / f'iter_{iters}.pth').write_bytes(b'')
    rows = [dict(loss=1.0, step=1), dict(mIoU=miou, step=iters)]
    (run / '20260101_000000' / 'vis_data' / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in rows))


def test_mean_std_names_missing_seeds():
    assert bench._mean_std([1.0, 3.0], 2) == '2.00 +- 1.00'
    assert bench._mean_std([1.0], 2) == '1.00 (n=1)'
    assert bench._mean_std([], 2) == '-'


def test_report_only_tabulates_what_finished(tmp_path):
    (tmp_path / 'data' / 'image').mkdir(parents=True)
    _finished(tmp_path, 'segformer_mit-b0_synthetic-rooms-seg_seed0', 20.0)
    _finished(tmp_path, 'deeplabv3_r18-d8_synthetic-rooms-seg_seed0', 30.0)
    _finished(tmp_path, 'deeplabv3_r18-d8_synthetic-rooms-seg_seed1', 32.0)
    _finished(tmp_path, 'heteroakd_mit-b0_to_r18-d8_synthetic-rooms-seg_seed0',
              33.0)
    bench.main([
        '--report-only', '--pairs', 'mit-b0_to_r18-d8', '--seeds', '0', '1',
        '--iters', '2', '--work-dir',
        str(tmp_path), '--data-root',
        str(tmp_path / 'data')
    ])
    table = (tmp_path / 'heteroakd_synthetic.md').read_text()
    assert '| mit-b0 -> r18-d8 | 20.00 | 31.00 +- 1.00 | - | - | ' \
        '33.00 (n=1) |' in table, table
