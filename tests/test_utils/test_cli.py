"""had_mm.utils.cli: the scripts' parser, config arguments and error exit."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from had_mm.utils import cli

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_config_args_parse_config_and_cfg_options():
    parser = cli.new_parser('what the script does')
    cli.add_config_args(parser)
    args = parser.parse_args(
        ['c.py', '--cfg-options', 'a.b=1', 'c=[1,2]', 'd=x'])
    assert parser.description == 'what the script does'
    assert args.config == 'c.py'
    assert args.cfg_options == {'a.b': 1, 'c': [1, 2], 'd': 'x'}
    assert parser.parse_args(['c.py']).cfg_options is None
    assert cli.CFG_OPTIONS_HELP in parser.format_help()


def test_config_args_without_cfg_options():
    parser = cli.new_parser('d')
    cli.add_config_args(parser, config_help='the model', cfg_options=False)
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(['c.py', '--cfg-options', 'a=1'])
    assert exc.value.code == 2
    assert 'the model' in parser.format_help()


def test_require_file_error_line_and_exit_status(tmp_path, capsys):
    config = tmp_path / 'c.py'
    config.write_text('x = 1\n')
    cli.require_file(str(config))  # a file: nothing happens
    for path in (str(tmp_path / 'missing.py'), str(tmp_path)):
        with pytest.raises(SystemExit) as exc:
            cli.require_file(path)
        assert exc.value.code == 2
        assert capsys.readouterr().err == (
            f'error: config file "{path}" does not exist\n')
    # a folder of images is an input where folder_ok
    cli.require_file(str(tmp_path), 'image', folder_ok=True)
    with pytest.raises(SystemExit):
        cli.require_file(str(tmp_path / 'x.png'), 'image', folder_ok=True)
    assert capsys.readouterr().err == (
        f'error: image "{tmp_path / "x.png"}" does not exist\n')


def test_exit_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.exit_error(ValueError('bad input'))
    assert exc.value.code == 2
    assert capsys.readouterr().err == 'error: bad input\n'
    with pytest.raises(SystemExit) as exc:
        cli.exit_error('other', status=1)
    assert exc.value.code == 1


def test_parse_launched_exports_local_rank(monkeypatch):
    # set, then deleted: monkeypatch records the worker's own state and
    # restores it. A bare delenv of an absent variable records nothing, so
    # the LOCAL_RANK parse_launched exports would leak into later tests
    # (a tool they start would then ask for GPU 3).
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.delenv('LOCAL_RANK')
    parser = cli.new_parser('d')
    cli.add_launcher_arg(parser)
    args = cli.parse_launched(parser,
                              ['--launcher', 'pytorch', '--local-rank', '3'])
    assert (args.launcher, args.local_rank) == ('pytorch', 3)
    assert os.environ['LOCAL_RANK'] == '3'
    # torchrun's own LOCAL_RANK wins
    monkeypatch.setenv('LOCAL_RANK', '1')
    parser = cli.new_parser('d')
    cli.add_launcher_arg(parser)
    args = cli.parse_launched(parser, ['--local_rank', '0'])
    assert args.launcher == 'none'
    assert os.environ['LOCAL_RANK'] == '1'


def test_grid_defaults():
    quick = dict(seeds=[0], iters=2)
    protocol = dict(seeds=[0, 1, 2], iters=300)

    def parse(argv):
        parser = cli.new_parser('d')
        parser.add_argument('--quick', action='store_true')
        parser.add_argument('--seeds', type=int, nargs='+')
        parser.add_argument('--iters', type=int)
        cli.add_grid_args(parser, 'work_dirs/x', 'the data')
        return parser.parse_args(argv)

    args = parse(['--iters', '5'])
    assert cli.fill_grid_defaults(args, quick, protocol, '/res') is protocol
    assert (args.seeds, args.iters, args.results_dir) == ([0, 1, 2], 5, '/res')
    assert (args.jobs, args.threads, args.work_dir,
            args.report_only) == (1, 1, 'work_dirs/x', False)
    args = parse(['--quick'])
    cli.fill_grid_defaults(args, quick, protocol, '/res', keys=['seeds'])
    # --quick writes into its work dir, never over the committed results
    assert (args.seeds, args.iters, args.results_dir) == ([0], None,
                                                          'work_dirs/x')


def test_light_scripts_load_it_without_had_mm():
    """The tools' ``from light_import import cli`` must not import had_mm
    (whose __init__ takes seconds), so that --help answers at once."""
    code = ('import sys; sys.path.insert(0, "tools/data"); '
            'from light_import import cli; '
            'assert cli.__name__ == "_had_mm_light_cli", cli.__name__; '
            'assert not [m for m in sys.modules if m.startswith("had_mm")]; '
            'assert "mmengine" not in sys.modules')
    subprocess.run([sys.executable, '-c', code], cwd=REPO, check=True)


@pytest.mark.parametrize(
    'tool', ['tools/misc/print_config.py', 'tools/analysis/check_dataset.py'])
def test_tool_missing_config(tool, tmp_path):
    """Answered before had_mm is imported: one line, exit status 2."""
    missing = str(tmp_path / 'missing.py')
    proc = subprocess.run([sys.executable, tool, missing],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert proc.stderr == f'error: config file "{missing}" does not exist\n'
