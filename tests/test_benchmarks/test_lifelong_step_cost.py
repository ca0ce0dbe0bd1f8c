"""The step-cost benchmark runs in its short mode (no timing asserted)."""
import sys

from tool_runner import run_tool


def test_short_mode_prints_every_variant():
    proc = run_tool(
        [sys.executable, 'benchmarks/lifelong_step_cost.py', '--short'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for row in ('| A (mmseg', '| B_2', '| C_2', '| B_4', '| C_4',
                '| D semantic', '| D saliency', 'peak'):
        assert row in out, out
    assert 'C/B' in out and '(D-D0)/A' in out
