"""The README, docs/en and the results pages say what runs: every path they
name exists, every link and anchor resolves, every command's script takes
the flags it is given (and its --cfg-options keys exist in the config),
every Python block names nothing undefined, and no page describes how the
project was made instead of the software. Static checks only: fast."""
import ast
import glob
import os.path as osp
import re
import shlex

import pytest
from tool_runner import REPO

# the pages this checks; the tutorials mmseg_project.md and nyuv2_8gpus.md
# run as written in test_tutorials.py
PAGES = sorted([
    'README.md', 'configs/had/README.md', 'configs/heteroakd/README.md',
    'projects/kdp/README.md', 'projects/kdp/results.md',
    'projects/kdp/docs/method.md', 'projects/had_in_mmseg/README.md',
    'projects/edge_task/README.md'
] + [
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'docs', '**', '*.md'), recursive=True)
])
# a path in the text: the repository's top folders, up to a file suffix
PATH_RE = re.compile(r'(?<![\w./-])((?:configs|tools|demo|benchmarks|projects'
                     r'|tests|docs)/[\w./-]+?\.(?:py|sh|md|yaml|csv|png))'
                     r'(?![\w{*<])')
LINK_RE = re.compile(r'\]\(([^)\s]+)\)')
BLOCK_RE = re.compile(r'```(\w*)\n(.*?)```', re.S)
# statements about how the project was made, not about the software
PROCESS_RE = re.compile(
    r'no GPU machine|was lent|not timed yet|not been timed|this session|'
    r'previous session|lack of CPU time|the issue\b', re.I)


def _text(page):
    with open(osp.join(REPO, page)) as f:
        return f.read()


def _blocks(page, lang):
    return [b for kind, b in BLOCK_RE.findall(_text(page)) if kind == lang]


def _prose(text):
    return BLOCK_RE.sub('', text)


def _slug(heading):
    """GitHub's anchor of a heading."""
    text = re.sub(r'[`*]', '', heading.strip().lower())
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def _anchors(path):
    with open(path) as f:
        text = _prose(f.read())
    return {_slug(m.group(1)) for m in re.finditer(r'^#+ (.+)$', text, re.M)}


def test_pages_exist():
    for page in ('docs/en/get_started.md', 'docs/en/user_guides/train_test.md',
                 'docs/en/user_guides/inference.md',
                 'docs/en/user_guides/analysis_tools.md',
                 'docs/en/user_guides/multi_gpu_slurm.md',
                 'docs/en/user_guides/amp.md', 'docs/en/dataset_prepare.md',
                 'docs/en/tasks_metrics.md', 'docs/en/methods.md',
                 'docs/en/advanced_guides/index.md', 'docs/en/performance.md',
                 'docs/en/benchmarks.md'):
        assert page in PAGES, page


@pytest.mark.parametrize('page', PAGES)
def test_named_paths_exist(page):
    # a fence without a language is a listing (a tree, an output)
    text = re.sub(r'```\n.*?```', '', _text(page), flags=re.S)
    missing = [
        p for p in PATH_RE.findall(text) if not osp.exists(osp.join(REPO, p))
        and not osp.exists(osp.join(REPO, osp.dirname(page), p))
    ]
    assert not missing, missing


@pytest.mark.parametrize('page', PAGES)
def test_links_and_anchors_resolve(page):
    bad = []
    for link in LINK_RE.findall(_prose(_text(page))):
        if re.match(r'[a-z]+://', link):
            continue
        target, _, anchor = link.partition('#')
        path = osp.normpath(osp.join(REPO, osp.dirname(page), target)) \
            if target else osp.join(REPO, page)
        if not osp.exists(path):
            bad.append(link)
        elif anchor and path.endswith('.md') and anchor not in _anchors(path):
            bad.append(link)
    assert not bad, bad


def _commands(page):
    """The shell commands of a page's bash blocks, continuations joined."""
    for block in _blocks(page, 'bash'):
        heredoc = None
        for line in block.replace('\\\n', ' ').splitlines():
            if heredoc is not None:  # a file the block writes
                heredoc = None if line.strip() == heredoc else heredoc
                continue
            found = re.search(r"<<-?\s*['\"]?(\w+)", line)
            heredoc = found.group(1) if found else None
            line = line.split(' #', 1)[0].strip()
            if line and not line.startswith('#'):
                yield line


def _script_and_args(command):
    """The repository script a command runs and its arguments, or None."""
    words = shlex.split(command.replace('[', ' ').replace(']', ' '))
    while words and re.match(r'^[A-Z_]+=', words[0]):
        words.pop(0)  # environment assignments
    if words[:1] in (['python'], ['.venv/bin/python']):
        words.pop(0)
    if words and re.match(r'(tools|demo|benchmarks|projects)/\S+\.(py|sh)$',
                          words[0]):
        return words[0], words[1:]
    return None


FLAG_RE = re.compile(r"""['"](--[\w-]+)['"]""")


def _helper_flags():
    """The --flags each function of had_mm/utils/cli.py adds (itself or
    through the others it calls), by name."""
    with open(osp.join(REPO, 'had_mm', 'utils', 'cli.py')) as f:
        source = f.read()
    bodies = {
        node.name: ast.get_source_segment(source, node)
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
    }
    flags = {}
    for name, body in bodies.items():
        called = [
            other for callee, other in bodies.items()
            if callee == name or re.search(rf'\b{callee}\(', body)
        ]
        flags[name] = set(FLAG_RE.findall(''.join(called)))
    return flags


def _flags_of(script):
    """The --flags a script's argparse takes (its own, and those of the
    had_mm.utils.cli functions it calls); a launcher: its tool's."""
    if script.endswith('.sh'):
        tool = 'test' if '_test' in script else 'train'
        script = f'tools/{tool}.py'
    with open(osp.join(REPO, script)) as f:
        source = f.read()
    flags = set(FLAG_RE.findall(source)) | {'--help'}
    for name, added in _helper_flags().items():
        if re.search(rf'\b{name}\(', source):
            flags |= added
    return flags


def _cfg_option_keys(args):
    keys, inside = [], False
    for arg in args:
        if arg == '--cfg-options':
            inside = True
        elif arg.startswith('--'):
            inside = False
        elif inside and '=' in arg:
            keys.append(arg.split('=', 1)[0])
    return keys


# keys mmengine's runner fills in when a config leaves them out
RUNNER_KEYS = {'randomness', 'env_cfg', 'load_from', 'resume', 'work_dir'}


@pytest.mark.parametrize('page', PAGES)
def test_commands_run_existing_scripts_with_their_flags(page):
    from mmengine.config import Config
    problems = []
    for command in _commands(page):
        found = _script_and_args(command)
        if found is None:
            continue
        script, args = found
        if not osp.isfile(osp.join(REPO, script)):
            problems.append(f'{command}: no {script}')
            continue
        flags = _flags_of(script)
        for arg in args:
            if arg.startswith('--') and arg.split('=')[0] not in flags:
                problems.append(f'{command}: {script} takes no {arg}')
        configs = [
            a for a in args
            if a.endswith('.py') and a.startswith(('configs/', 'projects/'))
        ]
        for config in configs:
            if not osp.isfile(osp.join(REPO, config)):
                problems.append(f'{command}: no {config}')
        keys = _cfg_option_keys(args)
        if keys and configs and osp.isfile(osp.join(REPO, configs[0])):
            cfg = Config.fromfile(
                osp.join(REPO, configs[0]),
                import_custom_modules=False,
                format_python_code=False)
            for key in keys:
                parts = key.split('.')
                if parts[0] in RUNNER_KEYS:
                    continue
                node = cfg
                for part in parts[:-1]:
                    node = node.get(part) if hasattr(node, 'get') else None
                if not hasattr(node, 'get'):
                    problems.append(f'{command}: {configs[0]} has no '
                                    f'{".".join(parts[:-1])}')
    assert not problems, problems


def _undefined_names(source):
    from pyflakes import api, reporter

    class Collect(reporter.Reporter):

        def __init__(self):
            self.messages = []

        def flake(self, message):
            self.messages.append(str(message))

        def syntaxError(self, *args):
            self.messages.append(f'syntax error: {args}')

        def unexpectedError(self, *args):
            self.messages.append(f'error: {args}')

    collect = Collect()
    api.check(source, 'block', collect)
    return [
        m for m in collect.messages if 'undefined name' in m or 'error' in m
    ]


@pytest.mark.parametrize('page', PAGES)
def test_python_blocks_name_nothing_undefined(page):
    for block in _blocks(page, 'python'):
        # the method pages and tutorials also quote excerpts of a source file
        excerpts = page.startswith(
            ('docs/en/methods/', 'docs/en/advanced_guides/'))
        if page == 'README.md' or page.startswith('docs/en/') and (
                not excerpts or page.endswith('index.md')):
            assert not _undefined_names(block), block
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith('had_mm'):
                module = osp.join(REPO, *node.module.split('.'))
                if osp.isdir(module):
                    module = osp.join(module, '__init__')
                with open(module + '.py') as f:
                    exported = f.read()
                for alias in node.names:
                    assert re.search(rf'\b{alias.name}\b',
                                     exported), (node.module, alias.name)


@pytest.mark.parametrize('page', PAGES)
def test_no_statement_about_how_the_project_was_made(page):
    found = PROCESS_RE.findall(_text(page))
    assert not found, found


RESULTS_PAGES = {
    'configs/had/README.md': ['benchmarks/results/lifelong_synthetic.md'],
    'configs/heteroakd/README.md': [
        'benchmarks/results/heteroakd_synthetic.md',
        'benchmarks/results/heteroakd_synthetic_ablation.md'
    ],
    'projects/kdp/results.md':
    ['projects/kdp/benchmarks/results/procedural.md'],
}


@pytest.mark.parametrize('page', sorted(RESULTS_PAGES))
def test_results_tables_are_the_results_files(page):
    """Every mean ± CI of a results page's tables is in the file the
    benchmark wrote (sections on earlier runs aside)."""
    source = ''.join(_text(p) for p in RESULTS_PAGES[page])
    numbers = re.findall(r'-?\d+\.\d+ ± \d+\.\d+', source)
    text = _prose(_text(page))
    sections = re.split(r'^#+ ', text, flags=re.M)
    checked = 0
    for section in sections:
        if section.lower().startswith('earlier'):
            continue
        for line in section.splitlines():
            if not line.startswith('|'):
                continue
            for value in re.findall(r'[-+]?\d+\.\d+ ± \d+\.\d+', line):
                assert value.lstrip('+') in numbers, (page, value)
                checked += 1
    assert checked >= 20
