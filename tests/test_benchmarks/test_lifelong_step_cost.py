"""The step-cost benchmark runs in its short mode (no timing asserted)."""
import sys

from tool_runner import run_tool


def test_short_mode_prints_every_variant():
    proc = run_tool(
        [sys.executable, 'benchmarks/lifelong_step_cost.py', '--short'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for row in ('| A (mmseg', '| B_2', '| C_2', '| P_2', '| B_4', '| C_4',
                '| P_4', '| D semantic (', '| D semantic, 40 classes',
                '| D saliency', 'peak', '| loader alone',
                '| wait for the next batch', '| F: forward pass',
                '| M: metric accumulation', '| E: evaluation'):
        assert row in out, out
    for ratio in ('C/B', 'P/A', '(D-D0)/A', 'stall', 'E/(F+M)'):
        assert ratio in out, out


def test_short_mode_with_amp_and_channels_last_prints_the_modes():
    from had_mm.utils.cpu_features import cpu_bf16_flag
    proc = run_tool([
        sys.executable, 'benchmarks/lifelong_step_cost.py', '--short',
        '--no-data', '--phases', '2', '--amp', '--channels-last'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert 'modes side by side' in out, out
    assert '| C_2/B_2 |' in out and 'D/D0' in out
    header = [
        ln for ln in out.splitlines() if ln.startswith('| variant | fp32')
    ]
    assert len(header) == 1
    if cpu_bf16_flag() or 'device cuda' in out:
        assert 'mixed precision + channels_last' in header[0]
    else:
        assert '--amp skipped' in out
        assert header[0].endswith('| channels_last |')
    for row in ('| A |', '| B_2 |', '| C_2 |'):
        assert row in out, out
