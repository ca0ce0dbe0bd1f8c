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


def _readme():
    return open(osp.join(REPO, 'README.md')).read()


def test_readme_is_short_and_starts_with_the_users_command():
    lines = _readme().splitlines()
    assert len(lines) <= 250, len(lines)
    first_screen = '\n'.join(lines[:40])
    assert 'tools/dist_train.sh configs/had/nyuv2_4tasks.py 8' in first_screen
    for section in ('## Quick start', '## Installation', '## Commands',
                    '## Documentation', '## Citation', '## License'):
        assert section in lines, section
    # one copy of every table: the presets table lives in
    # docs/en/methods/had_presets.md
    assert 'reference behaviour' not in _readme()
    assert osp.isfile(osp.join(REPO, 'LICENSE'))


def test_readme_figures_carry_their_command():
    """A paragraph that gives a time or a size names the command."""
    prose = re.sub(r'```.*?```', '', _readme(), flags=re.S)
    for para in prose.split('\n\n'):
        if re.search(r'\d\s*(minutes|GB|MB)\b', para):
            assert re.search(r'`[^`]*(make|\.sh|python|pytest|du|ls)[^`]*`',
                             para), para


def test_readme_verdicts_link_their_results_pages():
    text = _readme()
    for page in ('configs/had/README.md', 'configs/heteroakd/README.md',
                 'projects/kdp/results.md'):
        assert f']({page})' in text, page
        assert osp.isfile(osp.join(REPO, page))


def test_make_demo_prints_the_benchmarks_verdict():
    """The demo's one-seed comparison is followed by the benchmark's
    verdict, with the numbers of the committed results."""
    makefile = open(osp.join(REPO, 'Makefile')).read()
    results = open(
        osp.join(REPO, 'benchmarks', 'results',
                 'lifelong_synthetic.md')).read()
    numbers = re.findall(r'-?\d+\.\d+ ± \d+\.\d+', makefile)
    assert len(numbers) >= 2
    for number in numbers:
        assert number in results, number
