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
