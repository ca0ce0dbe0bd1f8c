"""tools/analysis/analyze_logs.py on scalars.json files as mmengine writes
them (a lifelong run, resumed once, and a single-task run)."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image
from tool_runner import REPO

SPEC = importlib.util.spec_from_file_location(
    'analyze_logs', osp.join(REPO, 'tools', 'analysis', 'analyze_logs.py'))
analyze_logs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(analyze_logs)


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


def _lifelong_records(iters=range(1, 10)):
    """3 phases x 3 iterations: semantic, depth, normal (distilling)."""
    out = []
    for it in iters:
        phase = (it - 1) // 3
        rec = dict(lr=1e-3, loss=float(10 - it), iter=it, step=it)
        rec[['semantic.loss_ce', 'depth.loss_depth',
             'normal.loss_normal'][phase]] = 1.0
        for old in ['semantic', 'depth'][:phase]:
            rec[f'{old}.loss_distill'] = 0.5
        out.append(rec)
        if it % 3 == 0:
            val = {'semantic/mIoU': 10.0 + it, 'step': it}
            if phase >= 1:
                val['depth/abs_err'] = 1.0 / it
            val['semantic/IoU.chair'] = float('nan')
            out.append(val)
    return out


@pytest.fixture
def lifelong_dir(tmp_path):
    """A lifelong work dir, killed after iteration 5 and resumed from 4."""
    work = tmp_path / 'lifelong'
    records = _lifelong_records()
    first = [dict(r) for r in records if r["step"] <= 5]
    for r in first:
        if r.get('iter') == 5:
            r['loss'] = 99.0  # re-logged after the resume: must be replaced
    _write(work / '20240101_000000' / 'vis_data' / 'scalars.json', first)
    _write(work / '20240101_010000' / 'vis_data' / 'scalars.json',
           [r for r in records if r['step'] >= 5])
    return work


def test_phases_from_the_losses(lifelong_dir):
    train, val = analyze_logs.load_scalars(str(lifelong_dir))
    assert [r['iter'] for r in train] == list(range(1, 10))
    assert train[4]['loss'] == 5.0  # the resumed run's value
    assert [r['step'] for r in val] == [3, 6, 9]
    assert analyze_logs.lifelong_phases(train) == [(1, 3, 'semantic'),
                                                   (4, 6, 'depth'),
                                                   (7, 9, 'normal')]
    joint = [dict(r, **{'semantic.loss_ce': 1.0}) for r in train]
    assert analyze_logs.lifelong_phases(joint[3:]) == []


def test_plot_one_and_several_runs(lifelong_dir, tmp_path, capsys):
    analyze_logs.main([str(lifelong_dir)])
    out = capsys.readouterr().out
    assert 'phases semantic (iter 1-3), depth (iter 4-6), normal (iter 7-9)' \
        in out
    png = lifelong_dir / 'curves.png'
    # default keys: the loss and the primary metrics the run has
    assert 'loss, semantic/mIoU, depth/abs_err' in out
    assert Image.open(png).format == 'PNG'

    single = tmp_path / 'single' / 'scalars.json'
    _write(single, [
        dict(loss=2.0 / i, iter=i, step=i, **{'semantic.loss_ce': 2.0 / i})
        for i in range(1, 5)
    ] + [{
        'semantic/mIoU': 20.0,
        'step': 4
    }])
    out_png = tmp_path / 'both.png'
    analyze_logs.main([
        str(lifelong_dir),
        str(single), '--keys', '*loss_distill', 'semantic/mIoU', '--legend',
        'HAD', 'single', '--out',
        str(out_png), '--title', 'two runs'
    ])
    out = capsys.readouterr().out
    assert 'semantic.loss_distill, depth.loss_distill, semantic/mIoU' in out
    img = np.array(Image.open(out_png))
    assert img.shape[1] == 2 * 640 and img.shape[0] == 2 * 360  # 2x2 panels

    analyze_logs.main([str(lifelong_dir), '--list-keys'])
    keys = capsys.readouterr().out.split()
    assert 'semantic.loss_ce' in keys and 'iter' not in keys


@pytest.mark.parametrize('args,needle', [
    (['--keys', 'semantic/miou'], 'did you mean semantic/mIoU'),
    (['--keys', 'nothing*'], 'no run logged the key "nothing*"'),
])
def test_bad_keys(lifelong_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exit_info:
        analyze_logs.main([str(lifelong_dir)] + args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_bad_runs(tmp_path, capsys):
    for run, needle in ((tmp_path / 'none', 'does not exist'),
                        (tmp_path, 'no vis_data/scalars.json under')):
        with pytest.raises(SystemExit):
            analyze_logs.main([str(run)])
        assert needle in capsys.readouterr().err
    bad = tmp_path / 'bad' / 'scalars.json'
    bad.parent.mkdir()
    bad.write_text('{"loss": 1, "iter": 1}\nnot json\n')
    with pytest.raises(SystemExit):
        analyze_logs.main([str(bad)])
    assert 'line 2 is not JSON' in capsys.readouterr().err


def test_a_plug_in_task_splits_the_phases():
    """Phases follow any task's own loss, not a list of the built-ins."""
    train = [
        dict(iter=1, **{'edge.loss_edge': 1.0}),
        dict(iter=2, **{'edge.loss_edge': 1.0}),
        dict(iter=3, **{
            'semantic.loss_ce': 1.0,
            'edge.loss_distill': 0.5
        }),
    ]
    assert analyze_logs.lifelong_phases(train) == [(1, 2, 'edge'),
                                                   (3, 3, 'semantic')]


def test_one_logged_value_is_drawn(tmp_path):
    """A curve with a single value has no line: it gets a marker."""
    one = tmp_path / 'one' / 'scalars.json'
    _write(one, [dict(loss=2.0, iter=1, step=1)])
    png = tmp_path / 'one.png'
    analyze_logs.main([str(one), '--keys', 'loss', '--out', str(png)])
    img = np.array(Image.open(png).convert('RGB')).astype(int)
    c0 = np.array([0x1f, 0x77, 0xb4])  # matplotlib's first colour
    assert (np.abs(img - c0).sum(-1) < 30).sum() > 10
