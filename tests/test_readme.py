"""The README's two commands are the ones the Makefile and CI run."""
import os.path as osp
import re

from tool_runner import REPO


def _readme_commands():
    text = open(osp.join(REPO, 'README.md')).read()
    quick = text.split('## Quick start', 1)[1].split('\n## ', 1)[0]
    return re.findall(r'```(?:bash|sh)\n(.*?)```', quick, re.S)


def test_readme_quick_start_gives_demo_and_test_commands():
    blocks = [b.strip() for b in _readme_commands()]
    assert 'make demo' in blocks and 'make test' in blocks


def test_ci_runs_the_readme_test_command():
    ci = open(osp.join(REPO, '.ci', 'run')).read()
    lines = [
        ln.strip() for ln in ci.splitlines()
        if ln.strip() and not ln.strip().startswith('#')
    ]
    assert 'make test' in lines
    # CI must not re-implement the test command's insides
    assert not any('pytest' in ln or 'setup_env' in ln for ln in lines)


def test_make_targets_set_up_the_environment_first():
    makefile = open(osp.join(REPO, 'Makefile')).read()
    for target in ('demo', 'test'):
        deps = re.search(rf'^{target}:(.*)$', makefile, re.M).group(1)
        assert 'env' in deps.split(), target
    assert re.search(r'^env:\n\t@?bash tools/setup_env.sh', makefile, re.M)
