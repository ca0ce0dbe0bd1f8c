"""tools/analysis/distill_diagnostics.py on a tiny 4-phase lifelong run."""
import csv
import importlib.util
import json
import math
import os
import os.path as osp
import sys

import pytest
import torch
from tool_runner import REPO, run_tool

TOOL = osp.join(REPO, 'tools', 'analysis', 'distill_diagnostics.py')
CONFIG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong_4tasks.py')
CONFIG_NAME = osp.basename(CONFIG)
TASKS = ['semantic', 'saliency', 'normal', 'depth']

_spec = importlib.util.spec_from_file_location('distill_diagnostics', TOOL)
dd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dd)


@pytest.fixture(scope='module')
def run_dir(synthetic_rooms_root, tmp_path_factory):
    """Four phases (semantic, saliency, normal, depth), one iteration
    each, trained with HAD through tools/train.py."""
    work = tmp_path_factory.mktemp('diag_run')
    root = synthetic_rooms_root
    proc = run_tool([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work), '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return work


@pytest.fixture(scope='module')
def report(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp('diag_out')
    json_path, csv_path = str(out / 'd.json'), str(out / 'd.csv')
    import io
    from contextlib import redirect_stdout
    buf = io.StringIO()
    with redirect_stdout(buf):
        dd.main([
            str(run_dir), '--batches', '2', '--out', json_path, '--csv',
            csv_path
        ])

    def no_nan(name):
        raise ValueError(f'non-strict JSON constant {name}')

    with open(json_path) as f:
        data = json.load(f, parse_constant=no_nan)
    return data, buf.getvalue(), csv_path


def _first_batch_outputs(run_dir, phase: int):
    """Student / teacher outputs of phase ``phase`` on the first batch,
    computed here without the tool."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    from had_mm.checkpoint import load_weights
    from had_mm.registry import DATASETS, MODELS
    from had_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('had_mm')
    cfg = Config.fromfile(str(run_dir / CONFIG_NAME))

    def load(t):
        model = MODELS.build(cfg.model)
        name = f'phase_{t}_{TASKS[t - 1]}.pth'
        model.load_state_dict(load_weights(str(run_dir / name)), strict=True)
        return model.eval()

    student, teacher = load(phase), load(phase - 1)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    bs = cfg.train_dataloader.batch_size  # the tool's default
    batch = pseudo_collate([dataset[i] for i in range(bs)])
    inputs = student.data_preprocessor(batch, False)['inputs']
    old = TASKS[:phase - 1]
    with torch.no_grad():
        t_out = teacher.head_outputs(
            teacher.extract_feat(inputs), old, inputs.shape[2:])
    s_out = student.head_outputs(
        student.extract_feat(inputs), old, inputs.shape[2:])
    return student, s_out, t_out


def test_report_covers_every_phase_and_old_task(report):
    data, out, _ = report
    assert [p['phase'] for p in data['phases']] == [2, 3, 4]
    assert data['distill_weight'] == 3.0 and data['batch_size'] == 2
    assert data['batches'] == 2 and data['images'] == 4
    for p in data['phases']:
        assert p['new_task'] == TASKS[p['phase'] - 1]
        assert p['teacher'] == f'phase_{p["phase"] - 1}_' \
            f'{TASKS[p["phase"] - 2]}.pth'
        assert list(p['old_tasks']) == TASKS[:p['phase'] - 1]
        # the run trained with the default HADLoss
        assert set(p['run_terms'].values()) == {'had'}
    saliency = data['phases'][-1]['old_tasks']['saliency']['terms']
    assert list(saliency) == ['lwf', 'had_db', 'had_sg', 'had', 'ref']
    normal = data['phases'][-1]['old_tasks']['normal']['terms']
    assert list(normal) == list(dd.TERM_LABELS)
    assert 'phase 4 (new task depth)' in out
    assert 'old task normal' in out and 'DB groups at tau 0.5' in out
    assert 'ref BCE' in out and 'HAD (DB+SG)/2' in out
    assert 'Loads checkpoint' not in out  # loader chatter goes to stderr


def test_plain_mean_and_grad_norm_match_an_independent_pass(run_dir, report):
    from had_mm.models.losses import PixelDistillLoss
    data, _, _ = report
    phase = data['phases'][-1]
    student, s_out, t_out = _first_batch_outputs(run_dir, 4)
    for task in ('semantic', 'normal'):
        got = phase['old_tasks'][task]
        lwf = PixelDistillLoss(task)(s_out[task], t_out[task])
        assert got['terms']['lwf']['loss_per_batch'][0] == pytest.approx(
            float(lwf), rel=1e-5)
    # the gradient norm on the encoder, through .backward() this time
    student.zero_grad()
    (3.0 * PixelDistillLoss('semantic')(s_out['semantic'],
                                        t_out['semantic'])).backward()
    norm = math.sqrt(
        sum(
            float(p.grad.pow(2).sum()) for p in student.backbone.parameters()
            if p.grad is not None))
    got = phase['old_tasks']['semantic']['terms']['lwf']
    assert got['grad_norm_per_batch'][0] == pytest.approx(norm, rel=1e-4)


def test_one_batch_sg_fraction_and_groups_match(run_dir, tmp_path):
    """With one batch the pooled fractions are that batch's."""
    from had_mm.models.losses import SGHADLoss
    from had_mm.models.losses.distill_utils import (pixel_distill_loss_map,
                                                    teacher_pseudo_label)
    from had_mm.tasks.unit_vectors import unit_normalize
    path = str(tmp_path / 'one.json')
    dd.main([str(run_dir), '--batches', '1', '--out', path])
    phase = json.load(open(path))['phases'][-1]
    _, s_out, t_out = _first_batch_outputs(run_dir, 4)
    task = 'normal'
    pseudo = teacher_pseudo_label(task, t_out[task])
    loss_map, valid = pixel_distill_loss_map(task, s_out[task].detach(),
                                             pseudo)
    mask = SGHADLoss(task).salience_mask(loss_map) & valid
    got = phase['old_tasks'][task]
    assert got['sg']['fraction'] == pytest.approx(
        float(mask.sum()) / float(valid.sum()))
    value = unit_normalize(s_out[task].detach()).mean(dim=1)
    below = float((valid & (value < 0.5)).sum()) / float(valid.sum())
    assert got['db']['group_fractions'][0] == pytest.approx(below)


def test_terms_are_consistent(report):
    data, _, _ = report
    for phase in data['phases']:
        sup = phase['supervised']
        assert sup['grad_norm'] > 0 and math.isfinite(sup['grad_norm'])
        for task, entry in phase['old_tasks'].items():
            terms = entry['terms']
            for b in range(data['batches']):
                db, sg, had = (
                    terms[k]['loss_per_batch'][b]
                    for k in ('had_db', 'had_sg', 'had'))
                assert had == pytest.approx((db + sg) / 2, rel=1e-5)
                # the combined gradient is the mean of the two: triangle
                g = {
                    k: terms[k]['grad_norm_per_batch'][b]
                    for k in ('had_db', 'had_sg', 'had')
                }
                assert g['had'] <= (g['had_db'] + g['had_sg']) / 2 + 1e-6
            for key, term in terms.items():
                assert math.isfinite(term['loss'])
                assert math.isfinite(term['grad_norm'])
                if key != 'ref':
                    assert term['grad_norm'] > 0, (phase['phase'], task, key)
            assert 0 < entry['sg']['fraction'] <= 1
            db = entry['db']
            if task in ('semantic', 'saliency'):
                num = db['num_classes']
                assert num == (2 if task == 'saliency' else 13)
                assert 1 <= db['classes_present'] <= num
                assert 0 < db['largest_class_share'] <= 1
                assert sum(db['class_shares']) == pytest.approx(1)
                # softmax weights average 1/C
                assert db['weight_min'] <= 1 / num <= db['weight_max']
            else:
                fracs = db['group_fractions']
                assert all(0 <= f <= 1 for f in fracs)
                assert sum(fracs) <= 1 + 1e-9
    # the reference saliency BCE weights negatives by the positive share:
    # it is 0 (no gradient) exactly when the teacher marks nothing salient
    sal = data['phases'][-1]['old_tasks']['saliency']
    no_positive = sal['db']['class_shares'][1] == 0
    assert (sal['terms']['ref']['loss'] == 0) == no_positive
    assert (sal['terms']['ref']['grad_norm'] == 0) == no_positive


def test_csv_holds_the_json_numbers(report):
    data, _, csv_path = report
    with open(csv_path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['phase', 'new_task', 'old_task', 'quantity', 'value']
    table = {(r[0], r[2], r[3]): float(r[4]) for r in rows[1:]}
    phase = data['phases'][-1]
    normal = phase['old_tasks']['normal']
    assert table[('4', 'normal', 'had_sg.grad_norm')] == pytest.approx(
        normal['terms']['had_sg']['grad_norm'])
    assert table[('4', 'normal', 'db.group_fractions.1')] == pytest.approx(
        normal['db']['group_fractions'][1])
    assert table[('4', '', 'supervised.loss')] == pytest.approx(
        phase['supervised']['loss'])


def test_stats_helpers_match_db_had_loss():
    """The tool's recomputed groups give back DBHADLoss's value."""
    import torch.nn.functional as F

    from had_mm.models.losses import DBHADLoss
    from had_mm.models.losses.distill_utils import (pixel_distill_loss_map,
                                                    teacher_pseudo_label)
    torch.manual_seed(0)
    channels = dict(semantic=5, saliency=1, depth=1, normal=3)
    for task, c in channels.items():
        s = torch.randn(2, c, 8, 10)
        t = torch.randn(2, c, 8, 10)
        if task == 'depth':
            s, t = s.abs() * 0.6, t.abs() * 0.6  # both sides of tau
        if task == 'normal':  # unit vectors, some with channel mean > tau
            s[:, :, :3] = 1.0
            s, t = F.normalize(s, dim=1), F.normalize(t, dim=1)
        pseudo = teacher_pseudo_label(task, t)
        loss_map, valid = pixel_distill_loss_map(task, s, pseudo)
        expected = float(DBHADLoss(task)(s, t))
        if task in ('semantic', 'saliency'):
            labels = pseudo if task == 'semantic' else pseudo[:, 0] >= 0.5
            num = 2 if task == 'saliency' else c
            st = dd.class_balance_stats(loss_map, valid, labels, num)
            got = sum(w * v
                      for w, v in zip(st['weight'], st['class_loss'])) / num
            assert sum(st['pixel_counts']) == int(valid.sum())
        else:
            st = dd.group_split_stats(task, s, loss_map, valid, 0.5)
            assert min(st['counts']) > 0
            got = sum(v / n for v, n in zip(st['loss_sums'], st['counts']))
        assert got == pytest.approx(expected, rel=1e-5), task


def test_a_partial_run_uses_consecutive_phases(run_dir, tmp_path, capsys):
    """Phase 3 missing: only phase 2 (teacher phase 1) is diagnosed."""
    work = tmp_path / 'partial'
    work.mkdir()
    for name in (CONFIG_NAME, 'phase_1_semantic.pth', 'phase_2_saliency.pth',
                 'phase_4_depth.pth'):
        os.symlink(run_dir / name, work / name)
    path = str(tmp_path / 'p.json')
    dd.main([str(work), '--batches', '1', '--out', path])
    phases = json.load(open(path))['phases']
    assert [p['phase'] for p in phases] == [2]
    assert list(phases[0]['old_tasks']) == ['semantic']


def _error_of(argv) -> str:
    with pytest.raises(SystemExit) as exc:
        dd.main(argv)
    assert isinstance(exc.value.code, str), exc.value.code
    assert exc.value.code.startswith('error: ')
    return exc.value.code


def test_errors_are_one_line(run_dir, tmp_path):
    assert 'does not exist' in _error_of([str(tmp_path / 'nope')])
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / CONFIG_NAME).symlink_to(run_dir / CONFIG_NAME)
    assert 'no phase checkpoints' in _error_of([str(empty)])
    one = tmp_path / 'one'
    one.mkdir()
    (one / CONFIG_NAME).symlink_to(run_dir / CONFIG_NAME)
    (one / 'phase_1_semantic.pth').symlink_to(run_dir / 'phase_1_semantic.pth')
    assert 'fewer than 2' in _error_of([str(one)])
    no_cfg = tmp_path / 'no_cfg'
    no_cfg.mkdir()
    for name in ('phase_1_semantic.pth', 'phase_2_saliency.pth'):
        (no_cfg / name).symlink_to(run_dir / name)
    assert 'no config' in _error_of([str(no_cfg)])
    # a checkpoint cut short by a killed save
    cut = tmp_path / 'cut'
    cut.mkdir()
    (cut / CONFIG_NAME).symlink_to(run_dir / CONFIG_NAME)
    (cut / 'phase_1_semantic.pth').symlink_to(run_dir / 'phase_1_semantic.pth')
    data = (run_dir / 'phase_2_saliency.pth').read_bytes()
    (cut / 'phase_2_saliency.pth').write_bytes(data[:len(data) // 2])
    assert 'phase_2_saliency.pth' in _error_of([str(cut)])


def test_command_line_error_exit_code(tmp_path):
    proc = run_tool([sys.executable, TOOL, str(tmp_path / 'missing')])
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert 'Traceback' not in out
    assert out.strip().splitlines() == [
        f'error: work dir "{tmp_path / "missing"}" does not exist'
    ]
