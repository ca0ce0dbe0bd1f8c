"""What the distillation terms of a lifelong run measure and push.

Reads a lifelong work dir (the config mmengine dumped at its top and the
phase checkpoints ``phase_<t>_<task>.pth``). For each phase ``p >= 2`` the
teacher is the phase ``p - 1`` checkpoint and the student the phase ``p``
one; on a few validation batches, for every old task it reports the value
of each distillation term (LwF plain mean; HAD default DB, SG and combined;
HAD ``preset='reference'`` DB, SG and combined, one BCE for saliency), the
fraction of pixels SG's salience mask selects, how DB's groups split, and
the gradient norm each term (times ``distill_weight``) sends to the shared
encoder, next to that of the new task's supervised loss.

Usage: python tools/analysis/distill_diagnostics.py WORK_DIR [--batches 4]
    [--batch-size B] [--out FILE.json] [--csv FILE.csv]

See docs/en/advanced_guides/distill_diagnostics.md for the meaning of
every number.
"""
import argparse
import contextlib
import csv
import glob
import json
import logging
import math
import os.path as osp
import pickle
import re
import sys
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'data'))
from light_import import cli  # noqa: E402

PHASE_FILE = re.compile(r'^phase_(\d+)_(.+)\.pth$')

#: Table labels of the terms, in report order.
TERM_LABELS = OrderedDict(
    lwf='LwF plain mean',
    had_db='HAD DB',
    had_sg='HAD SG',
    had='HAD (DB+SG)/2',
    ref_db='ref DB',
    ref_sg='ref SG',
    ref='ref (DB+SG)/2')


class DiagnosticsError(Exception):
    """Bad input to the tool: reported as one ``error:`` line."""


# ----------------------------------------------------------------- inputs
def find_config(work_dir: str, config: Optional[str] = None) -> str:
    """The config mmengine dumped at the top of ``work_dir``.

    Args:
        work_dir (str): The run's work dir.
        config (str, optional): An explicit config; wins over the search.

    Returns:
        str: The config path.

    Raises:
        DiagnosticsError: If none or several ``*.py`` are there.
    """
    if config is not None:
        if not osp.isfile(config):
            raise DiagnosticsError(f'config "{config}" does not exist')
        return config
    found = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if not found:
        raise DiagnosticsError(
            f'no config (*.py) at the top of "{work_dir}"; mmengine dumps '
            f'one there when training starts (or pass --config)')
    if len(found) > 1:
        names = ', '.join(osp.basename(f) for f in found)
        raise DiagnosticsError(f'several configs in "{work_dir}" ({names});'
                               f' choose one with --config')
    return found[0]


def find_phase_checkpoints(work_dir: str) -> List[Tuple[int, str, str]]:
    """The phase checkpoints of a lifelong run, in phase order.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        list[tuple[int, str, str]]: ``(phase, task, path)``, phase from 1.

    Raises:
        DiagnosticsError: If fewer than 2 consecutive phases are there or a
            phase number repeats.
    """
    phases: Dict[int, Tuple[int, str, str]] = {}
    for path in sorted(glob.glob(osp.join(work_dir, 'phase_*.pth'))):
        match = PHASE_FILE.match(osp.basename(path))
        if match is None:
            continue
        t = int(match.group(1))
        if t in phases:
            raise DiagnosticsError(
                f'two checkpoints of phase {t} in "{work_dir}": '
                f'{osp.basename(phases[t][2])} and {osp.basename(path)}')
        phases[t] = (t, match.group(2), path)
    if not phases:
        raise DiagnosticsError(
            f'no phase checkpoints (phase_<t>_<task>.pth) in "{work_dir}"; '
            f'was it written by a LifelongTrainLoop run?')
    ordered = [phases[t] for t in sorted(phases)]
    if not any(t - 1 in phases for t in phases):
        have = ', '.join(osp.basename(p) for _, _, p in ordered)
        raise DiagnosticsError(
            f'fewer than 2 consecutive phases in "{work_dir}" ({have}): '
            f'distillation starts at phase 2, with phase 1 as its teacher')
    return ordered


def phase_tasks(cfg, ckpts: Sequence[Tuple[int, str, str]]) -> List[str]:
    """The task of every phase, from ``train_cfg.phases`` if it has them.

    Args:
        cfg (Config): The run's config.
        ckpts (Sequence[tuple]): Output of :func:`find_phase_checkpoints`.

    Returns:
        list[str]: Task of phase ``t`` at index ``t - 1``.

    Raises:
        DiagnosticsError: If a checkpoint's name disagrees with the config,
            or, without phases in the config, a phase before the last
            checkpoint has no checkpoint to name its task.
    """
    phases = (cfg.get('train_cfg') or {}).get('phases') or []
    tasks = [p.get('task') for p in phases]
    for t, task, path in ckpts:
        if t <= len(tasks):
            if tasks[t - 1] != task:
                raise DiagnosticsError(
                    f'{osp.basename(path)} is not the config\'s phase {t} '
                    f'({tasks[t - 1]!r}); pass the run\'s config with '
                    f'--config')
    if len(tasks) >= ckpts[-1][0]:
        return tasks
    named = {t: task for t, task, _ in ckpts}
    gaps = [t for t in range(1, ckpts[-1][0]) if t not in named]
    if gaps:
        raise DiagnosticsError(
            f'the config has no train_cfg.phases and phase(s) {gaps} have '
            f'no checkpoint: their tasks are unknown')
    return [named[t] for t in range(1, ckpts[-1][0] + 1)]


def build_model(cfg, ckpt: str, device: str) -> nn.Module:
    """Build the run's model and load a checkpoint strictly (safely).

    Args:
        cfg (Config): The run's config.
        ckpt (str): A phase checkpoint.
        device (str): Where the model goes.

    Returns:
        nn.Module: The model in eval mode.
    """
    from had_mm.checkpoint import load_state_dict_strictly, load_weights
    from had_mm.registry import MODELS
    model = MODELS.build(cfg.model)
    # the loader prints the path it reads: not part of the table
    try:
        with contextlib.redirect_stdout(sys.stderr):
            weights = load_weights(ckpt)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError) as err:
        # name the file when the loader's message does not
        raise DiagnosticsError(
            str(err) if ckpt in str(err) else f'"{ckpt}": {err}') from None
    load_state_dict_strictly(model, weights, f'phase checkpoint "{ckpt}"')
    return model.to(device).eval()


def build_batches(cfg, num_batches: int, batch_size: int) -> List[dict]:
    """The first ``num_batches`` batches of the run's validation loader.

    Args:
        cfg (Config): The run's config.
        num_batches (int): Batches to take.
        batch_size (int): Images per batch.

    Returns:
        list[dict]: Collated, not yet preprocessed batches.
    """
    from mmengine.runner import Runner
    loader_cfg = dict(
        cfg.val_dataloader,
        batch_size=batch_size,
        num_workers=0,
        persistent_workers=False)
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    loader = Runner.build_dataloader(loader_cfg)
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == num_batches:
            break
    if not batches:
        raise DiagnosticsError('the validation set of the config is empty')
    return batches


# ------------------------------------------------------------ the terms
class MaskRecorder:
    """Wraps ``SGHADLoss.salience_mask`` and keeps the last mask it made.

    Set as an instance attribute of an ``SGHADLoss``, it sees the masks of
    both presets (the reference one builds its mask on its own loss map),
    so the selected fraction is exactly the mask the loss used.

    Args:
        fn (callable): The original ``salience_mask``.
    """

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        self.fn = fn
        self.mask: Optional[Tensor] = None

    def __call__(self, loss_map: Tensor) -> Tensor:
        self.mask = self.fn(loss_map)
        return self.mask


def _kind(task: str) -> str:
    """The task's ``distill_kind`` in the task table."""
    from had_mm.tasks import get_task
    return get_task(task).distill_kind


def build_terms(task: str, tau: float,
                threshold: float) -> 'OrderedDict[str, nn.Module]':
    """The distillation terms of one old task, unweighted.

    Args:
        task (str): Task type of the old task.
        tau (float): DB-HAD split threshold (depth / normal).
        threshold (float): SG-HAD salience threshold.

    Returns:
        OrderedDict[str, nn.Module]: ``{term key: loss}``, keys of
        :data:`TERM_LABELS` (saliency has one reference term, ``ref``).
        The SG terms carry a :class:`MaskRecorder`.
    """
    from had_mm.models.losses import HADLoss, PixelDistillLoss
    opts = dict(task=task, tau=tau, threshold=threshold)
    terms = OrderedDict(lwf=PixelDistillLoss(task))
    terms['had_db'] = HADLoss(use_sg=False, **opts)
    terms['had_sg'] = HADLoss(use_db=False, **opts)
    terms['had'] = HADLoss(**opts)
    # a binary task's reference preset is one plain BCE, not DB / SG
    if _kind(task) != 'binary':
        terms['ref_db'] = HADLoss(use_sg=False, preset='reference', **opts)
        terms['ref_sg'] = HADLoss(use_db=False, preset='reference', **opts)
    terms['ref'] = HADLoss(preset='reference', **opts)
    for key in ('had_sg', 'ref_sg'):
        if key in terms:
            sg = terms[key].sg_loss
            sg.salience_mask = MaskRecorder(sg.salience_mask)
    return terms


def run_term(distill_cfg: Optional[dict], task: str) -> Optional[str]:
    """The term key of the loss the run trained with, if it is one.

    Args:
        distill_cfg (dict, optional): The run's ``train_cfg.distill``.
        task (str): The old task (saliency has a single reference term).

    Returns:
        str | None: A key of :data:`TERM_LABELS`, or None.
    """
    if not distill_cfg:
        return None
    kind = distill_cfg.get('type')
    if kind == 'PixelDistillLoss':
        return 'lwf'
    if kind != 'HADLoss':
        return None
    db, sg = distill_cfg.get('use_db', True), distill_cfg.get('use_sg', True)
    if distill_cfg.get('preset', 'default') == 'reference':
        if _kind(task) == 'binary':
            return 'ref'
        return 'ref' if db and sg else ('ref_db' if db else 'ref_sg')
    if not (db or sg):
        return 'lwf'
    return 'had' if db and sg else ('had_db' if db else 'had_sg')


def grad_norm(loss: Tensor, params: Sequence[nn.Parameter]) -> float:
    """L2 norm of ``d loss / d params`` over all ``params`` together.

    Args:
        loss (Tensor): Scalar loss (graph kept for further terms).
        params (Sequence[nn.Parameter]): The encoder parameters.

    Returns:
        float: The norm (0 when the loss does not reach the params).
    """
    if not loss.requires_grad:
        return 0.0
    grads = torch.autograd.grad(
        loss, params, retain_graph=True, allow_unused=True)
    total = sum(g.double().pow(2).sum() for g in grads if g is not None)
    return float(torch.as_tensor(total).sqrt())


# ----------------------------------------------------- group statistics
def class_balance_stats(loss_map: Tensor,
                        valid: Tensor,
                        labels: Tensor,
                        num_classes: int,
                        eps: float = 1e-12) -> dict:
    """DB-HAD's class split of a semantic / saliency batch.

    Recomputes what ``DBHADLoss`` balances: the per-class geometric-mean
    loss over valid pixels with ``l > 0`` and its ``softmax(-L)`` weights,
    so that ``sum(weight * class_loss) / num_classes`` is the DB term.

    Args:
        loss_map (Tensor): ``B x H x W`` per-pixel loss.
        valid (Tensor): ``B x H x W`` bool valid mask.
        labels (Tensor): ``B x H x W`` pseudo-label class ids.
        num_classes (int): ``C`` (the student's channels; 2 for saliency).
        eps (float): Floor inside the log, as DBHADLoss. Defaults to 1e-12.

    Returns:
        dict: ``pixel_counts`` (valid pixels per class), ``class_loss`` and
        ``weight`` (lists of ``C`` floats).
    """
    labels = labels.long()
    counts = torch.bincount(labels[valid], minlength=num_classes)
    pos = valid & (loss_map > 0)
    idx = labels[pos]
    log_sum = torch.zeros(
        num_classes, dtype=torch.float64).index_add(
            0, idx.cpu(), loss_map[pos].clamp(min=eps).log().double().cpu())
    pos_counts = torch.bincount(idx.cpu(), minlength=num_classes)
    class_loss = torch.where(pos_counts > 0,
                             (log_sum / pos_counts.clamp(min=1)).exp(),
                             torch.zeros_like(log_sum))
    weight = torch.softmax(-class_loss, dim=0)
    return dict(
        pixel_counts=counts[:num_classes].tolist(),
        class_loss=class_loss.tolist(),
        weight=weight.tolist())


def group_split_stats(task: str, student_out: Tensor, loss_map: Tensor,
                      valid: Tensor, tau: float) -> dict:
    """DB-HAD's two groups of a depth / normal batch.

    Pixels are split at ``tau`` on the student prediction (the depth, or
    the channel mean of the unit normal), as ``DBHADLoss`` does with
    ``group_by='student'``; a pixel exactly at ``tau`` is in no group.

    Args:
        task (str): 'depth' or 'normal'.
        student_out (Tensor): Raw student head output.
        loss_map (Tensor): ``B x H x W`` per-pixel loss.
        valid (Tensor): ``B x H x W`` bool valid mask.
        tau (float): The split threshold.

    Returns:
        dict: ``valid`` (pixel count), ``counts`` and ``loss_sums`` of the
        groups ``[< tau, > tau]``.
    """
    from had_mm.tasks.unit_vectors import unit_normalize
    source = student_out.detach().float()
    if _kind(task) == 'normal':
        value = unit_normalize(source).mean(dim=1)
    else:
        value = source[:, 0]
    ok = valid & torch.isfinite(value)
    groups = (ok & (value < tau), ok & (value > tau))
    return dict(
        valid=int(valid.sum()),
        counts=[int(g.sum()) for g in groups],
        loss_sums=[float(loss_map[g].double().sum()) for g in groups])


# ------------------------------------------------------------ one phase
def _supervised_loss(model: nn.Module, feats, task: str,
                     data_samples) -> Optional[Tensor]:
    """The new task's own loss on the batch (None without its labels)."""
    from had_mm.tasks import get_task
    if not all(get_task(task).label_field in s for s in data_samples):
        return None
    head = model.heads[task]
    losses = head.loss_by_feat(head(feats), data_samples)
    # mmengine's rule: only items named *loss* are back-propagated
    return sum(v for k, v in losses.items() if 'loss' in k)


def diagnose_batch(student: nn.Module, teacher: nn.Module, batch: dict,
                   old_tasks: Sequence[str], new_task: str, weight: float,
                   tau: float, threshold: float) -> dict:
    """Every number of one batch of one phase (see :func:`diagnose_phase`).

    Args:
        student (nn.Module): The phase ``p`` model.
        teacher (nn.Module): The phase ``p - 1`` model (frozen).
        batch (dict): A collated batch.
        old_tasks (Sequence[str]): Tasks of the phases before ``p``.
        new_task (str): The task of phase ``p``.
        weight (float): lambda (``distill_weight``).
        tau (float): DB-HAD split threshold.
        threshold (float): SG-HAD salience threshold.

    Returns:
        dict: ``supervised`` (loss, grad_norm or None) and ``old`` (per old
        task: ``terms`` {key: (loss, grad_norm)}, ``sg`` and ``db`` raw
        counts).
    """
    from had_mm.models.losses.distill_utils import (pixel_distill_loss_map,
                                                    teacher_pseudo_label)
    data = student.data_preprocessor(batch, False)
    inputs, samples = data['inputs'], data['data_samples']
    size = inputs.shape[2:]
    params = [p for p in student.backbone.parameters() if p.requires_grad]
    with torch.no_grad():
        t_out = teacher.head_outputs(
            teacher.extract_feat(inputs), old_tasks, size)
    feats = student.extract_feat(inputs)
    s_out = student.head_outputs(feats, old_tasks, size)
    out = dict(supervised=None, old=OrderedDict())
    sup = _supervised_loss(student, feats, new_task, samples)
    if sup is not None:
        out['supervised'] = (float(sup.detach()), grad_norm(sup, params))
    for task in old_tasks:
        s, t = s_out[task], t_out[task]
        terms = build_terms(task, tau, threshold)
        values = OrderedDict()
        for key, loss_fn in terms.items():
            loss = loss_fn(s, t)
            values[key] = (float(loss.detach()),
                           grad_norm(weight * loss, params))
        pseudo = teacher_pseudo_label(task, t)
        loss_map, valid = pixel_distill_loss_map(task, s.detach(), pseudo)
        sg = dict(valid=int(valid.sum()))
        for key in ('had_sg', 'ref_sg'):
            if key in terms:
                mask = terms[key].sg_loss.salience_mask.mask
                sg[key] = int((mask & valid).sum())
        if _kind(task) in ('classification', 'binary'):
            binary = _kind(task) == 'binary'
            labels = pseudo[:, 0] >= 0.5 if binary else pseudo
            db = class_balance_stats(loss_map, valid, labels,
                                     2 if binary else s.shape[1])
        else:
            db = group_split_stats(task, s, loss_map, valid, tau)
        out['old'][task] = dict(terms=values, sg=sg, db=db)
    return out


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else float('nan')


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float('nan')


def aggregate(per_batch: List[dict], task_types: Sequence[str]) -> dict:
    """Combine the batches of one phase.

    Term values and gradient norms are averaged over batches (each batch
    is one optimizer step's view); pixel fractions pool the pixels of all
    batches; DB's class weights keep the extreme values seen.

    Args:
        per_batch (list[dict]): Outputs of :func:`diagnose_batch`.
        task_types (Sequence[str]): The old tasks.

    Returns:
        dict: ``supervised`` and ``old_tasks`` (see the docs).
    """
    sup = [b['supervised'] for b in per_batch if b['supervised'] is not None]
    report = dict(
        supervised=None if not sup else dict(
            loss=_mean([s[0] for s in sup]),
            grad_norm=_mean([s[1] for s in sup]),
            loss_per_batch=[s[0] for s in sup],
            grad_norm_per_batch=[s[1] for s in sup]),
        old_tasks=OrderedDict())
    for task in task_types:
        rows = [b['old'][task] for b in per_batch]
        terms = OrderedDict()
        for key in rows[0]['terms']:
            losses = [r['terms'][key][0] for r in rows]
            norms = [r['terms'][key][1] for r in rows]
            terms[key] = dict(
                loss=_mean(losses),
                grad_norm=_mean(norms),
                loss_per_batch=losses,
                grad_norm_per_batch=norms)
        valid = sum(r['sg']['valid'] for r in rows)
        sg = dict(fraction=_ratio(sum(r['sg']['had_sg'] for r in rows), valid))
        if 'ref_sg' in rows[0]['sg']:
            sg['reference_fraction'] = _ratio(
                sum(r['sg']['ref_sg'] for r in rows), valid)
        if _kind(task) in ('classification', 'binary'):
            counts = [
                sum(c) for c in zip(*(r['db']['pixel_counts'] for r in rows))
            ]
            total = sum(counts)
            weights = [w for r in rows for w in r['db']['weight']]
            present = [
                sum(c > 0 for c in r['db']['pixel_counts']) for r in rows
            ]
            db = dict(
                num_classes=len(counts),
                classes_present=_mean(present),
                classes_present_per_batch=present,
                largest_class=max(range(len(counts)), key=counts.__getitem__),
                largest_class_share=_ratio(max(counts), total),
                class_shares=[_ratio(c, total) for c in counts],
                weight_min=min(weights),
                weight_max=max(weights))
        else:
            valid = sum(r['db']['valid'] for r in rows)
            db = dict(
                group_fractions=[
                    _ratio(sum(r['db']['counts'][g] for r in rows), valid)
                    for g in range(2)
                ],
                group_losses=[
                    _mean([
                        _ratio(r['db']['loss_sums'][g], r['db']['counts'][g])
                        if r['db']['counts'][g] else 0.0 for r in rows
                    ]) for g in range(2)
                ])
        report['old_tasks'][task] = dict(terms=terms, sg=sg, db=db)
    return report


def diagnose_phase(student: nn.Module, teacher: nn.Module,
                   batches: Sequence[dict], old_tasks: Sequence[str],
                   new_task: str, weight: float, tau: float,
                   threshold: float) -> dict:
    """All numbers of one phase, aggregated over ``batches``.

    Args:
        student (nn.Module): The phase ``p`` model.
        teacher (nn.Module): The phase ``p - 1`` model.
        batches (Sequence[dict]): Collated validation batches.
        old_tasks (Sequence[str]): Tasks of the phases before ``p``.
        new_task (str): The task of phase ``p``.
        weight (float): lambda (``distill_weight``).
        tau (float): DB-HAD split threshold.
        threshold (float): SG-HAD salience threshold.

    Returns:
        dict: See :func:`aggregate`.
    """
    teacher.requires_grad_(False)
    per_batch = [
        diagnose_batch(student, teacher, b, old_tasks, new_task, weight, tau,
                       threshold) for b in batches
    ]
    return aggregate(per_batch, old_tasks)


# ---------------------------------------------------------------- output
def _fmt(x: Optional[float], spec: str = '.4g') -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return '-'
    return format(x, spec)


def format_phase(phase: dict) -> str:
    """The readable table of one phase.

    Args:
        phase (dict): One entry of the report's ``phases``.

    Returns:
        str: The table.
    """
    sup = phase['supervised']
    sup_norm = sup['grad_norm'] if sup else float('nan')
    lines = [
        f"phase {phase['phase']} (new task {phase['new_task']}): teacher "
        f"{phase['teacher']}, student {phase['student']}",
        f"  supervised {phase['new_task']} loss {_fmt(sup and sup['loss'])},"
        f' encoder grad norm {_fmt(sup and sup_norm)}'
    ]
    for task, entry in phase['old_tasks'].items():
        lines += [
            '', f'  old task {task}',
            f"    {'term':<18} {'loss':>10} {'grad norm':>11} "
            f"{'/ supervised':>13}"
        ]
        for key, term in entry['terms'].items():
            label = 'ref BCE' if _kind(task) == 'binary' and \
                key == 'ref' else \
                TERM_LABELS[key]
            mark = ' *' if key == phase.get('run_terms', {}).get(task) else ''
            lines.append(f"    {label:<18} {_fmt(term['loss']):>10} "
                         f"{_fmt(term['grad_norm']):>11} "
                         f"{_fmt(_ratio(term['grad_norm'], sup_norm)):>13}"
                         f'{mark}')
        sg = entry['sg']
        ref = sg.get('reference_fraction')
        lines.append(f"    SG mask: {_fmt(100 * sg['fraction'], '.3g')} % of "
                     f'valid pixels' +
                     (f" (reference: {_fmt(100 * ref, '.3g')} %)"
                      if ref is not None else ''))
        db = entry['db']
        if 'group_fractions' in db:
            low, high = db['group_fractions']
            loss_low, loss_high = db['group_losses']
            lines.append(
                f"    DB groups at tau {phase['tau']}: < tau "
                f"{_fmt(100 * low, '.3g')} %, > tau "
                f"{_fmt(100 * high, '.3g')} % of valid pixels; group losses "
                f'{_fmt(loss_low)} / {_fmt(loss_high)}')
        else:
            share = _fmt(100 * db['largest_class_share'], '.3g')
            lines.append(
                f"    DB classes: {_fmt(db['classes_present'], '.3g')} of "
                f"{db['num_classes']} present per batch, largest (class "
                f"{db['largest_class']}) {share} % of pixels; softmax "
                f"weights {_fmt(db['weight_min'])} to "
                f"{_fmt(db['weight_max'])}")
    return '\n'.join(lines)


def jsonable(obj):
    """``obj`` with every non-finite float replaced by None (strict JSON).

    Args:
        obj: Nested dicts / lists / scalars.

    Returns:
        The same structure.
    """
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def csv_rows(report: dict) -> List[List]:
    """The report as long-format CSV rows (header first).

    Args:
        report (dict): The tool's report.

    Returns:
        list[list]: ``[phase, new_task, old_task, quantity, value]`` rows.
    """
    rows = [['phase', 'new_task', 'old_task', 'quantity', 'value']]
    for ph in report['phases']:
        head = [ph['phase'], ph['new_task']]
        if ph['supervised']:
            for k in ('loss', 'grad_norm'):
                rows.append(head +
                            ['', f'supervised.{k}', ph['supervised'][k]])
        for task, entry in ph['old_tasks'].items():
            for key, term in entry['terms'].items():
                for k in ('loss', 'grad_norm'):
                    rows.append(head + [task, f'{key}.{k}', term[k]])
            for k, v in entry['sg'].items():
                rows.append(head + [task, f'sg.{k}', v])
            for k, v in entry['db'].items():
                if isinstance(v, list):
                    for i, x in enumerate(v):
                        rows.append(head + [task, f'db.{k}.{i}', x])
                else:
                    rows.append(head + [task, f'db.{k}', v])
    return rows


# ------------------------------------------------------------------ main
def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (see :func:`had_mm.utils.cli.new_parser`)."""
    parser = cli.new_parser(__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='work dir of a lifelong run')
    parser.add_argument(
        '--batches',
        type=int,
        default=4,
        help='validation batches to use (default 4)')
    parser.add_argument(
        '--batch-size',
        type=int,
        help='images per batch (default: the training batch size, the '
        'batch DB-HAD and SG-HAD normalise over)')
    parser.add_argument('--out', help='write all numbers as JSON here')
    parser.add_argument('--csv', help='write all numbers as CSV here')
    parser.add_argument(
        '--config', help='the run config (default: the *.py in WORK_DIR)')
    parser.add_argument(
        '--weight',
        type=float,
        help='lambda of the gradient norms (default: train_cfg.'
        'distill_weight, else 3)')
    parser.add_argument(
        '--tau',
        type=float,
        help='DB-HAD threshold (default: the run\'s, else 0.5)')
    parser.add_argument(
        '--threshold',
        type=float,
        help='SG-HAD threshold (default: the run\'s, else 0.9)')
    parser.add_argument('--device', default='cpu', help='device (default cpu)')
    cli.add_cfg_options(
        parser,
        help='override config settings, e.g. '
        'val_dataloader.dataset.data_root=PATH')
    args = parser.parse_args(argv)
    if args.batches < 1 or (args.batch_size is not None
                            and args.batch_size < 1):
        parser.error('--batches and --batch-size must be >= 1')
    return args


def _setup(args):
    """Config, phase checkpoints and settings (bad input raises)."""
    if not osp.isdir(args.work_dir):
        raise DiagnosticsError(f'work dir "{args.work_dir}" does not exist')
    ckpts = find_phase_checkpoints(args.work_dir)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from had_mm.utils import register_all_modules
    config = find_config(args.work_dir, args.config)
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    register_all_modules(init_default_scope=False)
    init_default_scope('had_mm')
    train_cfg = cfg.get('train_cfg') or {}
    distill = train_cfg.get('distill', dict(type='HADLoss'))
    distill = dict(distill) if distill else None
    loss_cfg = distill if distill and distill.get('type') in (
        'HADLoss', 'DBHADLoss', 'SGHADLoss') else {}
    settings = dict(
        config=config,
        distill=distill,
        weight=args.weight if args.weight is not None else float(
            train_cfg.get('distill_weight', 3.0)),
        tau=args.tau if args.tau is not None else float(
            loss_cfg.get('tau', 0.5)),
        threshold=args.threshold if args.threshold is not None else float(
            loss_cfg.get('threshold', 0.9)),
        batch_size=args.batch_size
        or int((cfg.get('train_dataloader') or {}).get('batch_size')
               or cfg.val_dataloader.get('batch_size', 1)))
    return cfg, ckpts, settings


@contextlib.contextmanager
def quiet_logs():
    """Hide mmengine's INFO lines (dataset sizes, checkpoint paths), which
    would split the table; the logger's level is restored after."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def diagnose(args) -> dict:
    """The whole report of a work dir.

    Args:
        args (argparse.Namespace): Parsed command line.

    Returns:
        dict: ``work_dir``, the settings and ``phases``.
    """
    cfg, ckpts, settings = _setup(args)
    batches = build_batches(cfg, args.batches, settings['batch_size'])
    report = dict(
        work_dir=osp.abspath(args.work_dir),
        config=settings['config'],
        distill=settings['distill'],
        distill_weight=settings['weight'],
        tau=settings['tau'],
        threshold=settings['threshold'],
        batches=len(batches),
        batch_size=settings['batch_size'],
        images=sum(len(b['inputs']) for b in batches),
        phases=[])
    tasks = phase_tasks(cfg, ckpts)
    paths = {t: path for t, _, path in ckpts}
    models: Dict[int, nn.Module] = {}
    for t, task, path in ckpts:
        if t - 1 not in paths:
            continue
        old = tasks[:t - 1]
        # phase p's student is phase p + 1's teacher: built once
        teacher = models.pop(t - 1, None) or build_model(
            cfg, paths[t - 1], args.device)
        student = build_model(cfg, path, args.device)
        missing = [n for n in old + [task] if n not in student.heads]
        if missing:
            raise DiagnosticsError(
                f'phase task(s) {missing} have no head in the model (heads: '
                f'{list(student.heads)})')
        phase = dict(
            phase=t,
            new_task=task,
            teacher=osp.basename(paths[t - 1]),
            student=osp.basename(path),
            old_task_list=old,
            run_terms={o: run_term(settings['distill'], o)
                       for o in old},
            tau=settings['tau'])
        phase.update(
            diagnose_phase(student, teacher, batches, old, task,
                           settings['weight'], settings['tau'],
                           settings['threshold']))
        report['phases'].append(phase)
        models = {t: student}
    return report


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        with quiet_logs():
            report = diagnose(args)
    except (DiagnosticsError, FileNotFoundError, ValueError, RuntimeError,
            KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        sys.exit(f'error: {msg}')
    print(f"distillation diagnostics of {report['work_dir']}: "
          f"{report['batches']} validation batches x {report['batch_size']}"
          f" images\nlambda = {report['distill_weight']:g}, tau = "
          f"{report['tau']:g}, SG threshold = {report['threshold']:g}; "
          f'losses unweighted, grad norm = L2 norm of the encoder gradient '
          f"of lambda * term (* = the run's loss)")
    for phase in report['phases']:
        print()
        print(format_phase(phase))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(jsonable(report), f, indent=2, allow_nan=False)
        print(f'\nwrote {args.out}')
    if args.csv:
        with open(args.csv, 'w', newline='') as f:
            csv.writer(f).writerows(csv_rows(report))
        print(f'wrote {args.csv}')


if __name__ == '__main__':
    main()
