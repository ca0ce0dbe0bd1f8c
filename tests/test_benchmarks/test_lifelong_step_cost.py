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
    assert 'D/D0' in out
    header = [
        ln for ln in out.splitlines() if ln.startswith('| variant | fp32')
    ]
    if 'device cuda' in out:
        assert len(header) == 1 and '| C_2/B_2 |' in out
        assert 'mixed precision + channels_last' in header[0]
    else:  # channels_last is refused on a CPU (oneDNN's NHWC backward)
        assert out.count('channels_last skipped on the CPU') == 1
        if cpu_bf16_flag():
            assert len(header) == 1 and '| C_2/B_2 |' in out
            assert header[0].endswith('| mixed precision |')
        else:  # fp32 alone: no table of modes
            assert '--amp skipped' in out
            assert 'modes side by side' not in out and not header
    for row in ('| A ', '| B_2 ', '| C_2 '):  # the rows of the modes
        assert sum(ln.startswith(row) for ln in out.splitlines()) == \
            1 + len(header), out
