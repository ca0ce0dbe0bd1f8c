"""The cache-error benchmark on a tiny random teacher (no figures
asserted)."""
import sys

import torch
from tool_runner import REPO, run_tool

TINY = f'{REPO}/tests/data/configs/tiny_lifelong.py'


def test_prints_the_three_comparisons_and_depth_against_labels(
        synthetic_rooms_root, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import had_mm  # noqa: F401
    from had_mm.registry import MODELS
    init_default_scope('had_mm')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TINY).model)
    ckpt = tmp_path / 'teacher.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    proc = run_tool([
        sys.executable, 'benchmarks/pseudo_label_cache_error.py', TINY,
        str(ckpt), '--data-root', synthetic_rooms_root, '--num-images', '6',
        '--batch-size', '4', '--tasks', 'semantic', 'depth'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for name in ('pipeline zooms:', 'flips only:', 'zoom 1.5 only:'):
        line = [ln for ln in out.splitlines() if ln.startswith(name)]
        assert len(line) == 1 and 'semantic agreement' in line[0], out
    assert '(6 augmented images, 6 zoomed)' in out
    assert 'mean |depth - zoomed label| (m): online' in out
