"""The Python side of the GPU run (benchmarks/gpu/run_on_device.sh).

Sub-commands, each run by the script:

- ``fake-nyuv2 OUT``: fake NYUv2 in a real layout (toolkit PNGs by
  default, or the NumPy release's ``.npy`` files) at the real split sizes
  (795 train / 654 test) and 288x384: a few distinct synthetic rooms,
  rendered once, and a symbolic link per image and label, in seconds.
- ``configs``: the configs of the runs, each inheriting an entry config as
  it is and changing only the data root, the length of the phases
  (iterations instead of epochs), the hooks that measure
  (``gpu_bench_hooks``) and, for the CPU dry run, the size.
- ``rank-train``: ``tools/train.py`` as a torchrun worker for several
  processes on one GPU (every rank on device 0; mmengine would put rank
  ``r`` on device ``r``).
- ``summarize``: the figures of every run as ``results.json`` and
  ``results.csv`` (the command in their header) and a text summary.
"""
import argparse
import csv
import json
import os
import os.path as osp
import statistics
import sys
import time
from typing import List, Optional

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
KINDS = ('image', 'seg13', 'depth', 'normal', 'saliency')
# the NumPy release's folder of each kind, per split folder
NUMPY_KINDS = dict(
    image='image',
    seg13='label',
    depth='depth',
    normal='normal',
    saliency='saliency')


# ------------------------------------------------------------ fake data
def _render_distinct(staging: str, num: int, size, seed: int) -> List[str]:
    """Render ``num`` synthetic rooms (toolkit PNGs) once; their ids."""
    sys.path.insert(0, osp.join(ROOT, 'tools', 'data'))
    from light_import import load_dataset_module
    generate = load_dataset_module('synthetic_rooms').generate_synthetic_rooms
    generate(staging, num, size=tuple(size), seed=seed, test_fraction=0.0)
    return sorted(
        osp.splitext(f)[0]
        for f in os.listdir(osp.join(staging, 'image', 'train')))


def _to_numpy(staging: str, ids: List[str]) -> None:
    """The NumPy release's files of each rendered room, beside its PNGs:
    image float RGB in [0, 1], label class index (-1 = ignore), depth
    metres, normal unit vectors, saliency 0/1."""
    import numpy as np
    from PIL import Image
    for i in ids:
        src = {k: osp.join(staging, k, 'train', f'{i}.png') for k in KINDS}
        out = {k: osp.join(staging, k, 'train', f'{i}.npy') for k in KINDS}
        rgb = np.asarray(Image.open(src['image']).convert('RGB'))
        np.save(out['image'], rgb.astype(np.float32) / 255)
        seg = np.asarray(Image.open(src['seg13'])).astype(np.float32) - 1
        np.save(out['seg13'], seg)
        depth = np.asarray(Image.open(src['depth'])).astype(np.float32)
        np.save(out['depth'], depth / 1000)
        normal = np.asarray(Image.open(src['normal']).convert('RGB'))
        np.save(out['normal'], normal.astype(np.float32) / 255 * 2 - 1)
        sal = np.asarray(Image.open(src['saliency'])) > 127
        np.save(out['saliency'], sal.astype(np.float32))


def fake_nyuv2(out: str,
               size=(288, 384),
               train: int = 795,
               test: int = 654,
               distinct: int = 16,
               layout: str = 'toolkit',
               seed: int = 0) -> dict:
    """Write fake NYUv2 (13 classes) to ``out`` in ``layout``.

    Every image and label of both splits is a relative symbolic link to
    one of ``distinct`` rendered rooms (kept in ``out/_distinct``), so the
    loader reads real files of the real format and size, at the real
    split sizes.

    Returns:
        dict: A summary (layout, size, counts, seconds).
    """
    tic = time.perf_counter()
    staging = osp.join(out, '_distinct')
    ids = _render_distinct(staging, min(distinct, train + test), size, seed)
    ext = 'png'
    if layout == 'numpy':
        _to_numpy(staging, ids)
        ext = 'npy'
    elif layout != 'toolkit':
        raise ValueError(f'layout must be toolkit or numpy, got {layout!r}')
    n = 0
    for split, count in (('train', train), ('test', test)):
        for kind in KINDS:
            if layout == 'toolkit':
                folder = osp.join(out, kind, split)
            else:
                folder = osp.join(out, 'train' if split == 'train' else 'val',
                                  NUMPY_KINDS[kind])
            os.makedirs(folder, exist_ok=True)
            for k in range(count):
                target = osp.join(staging, kind, 'train',
                                  f'{ids[k % len(ids)]}.{ext}')
                name = f'{k:05d}' if layout == 'toolkit' else str(k)
                link = osp.join(folder, f'{name}.{ext}')
                if osp.lexists(link):
                    os.remove(link)
                os.symlink(osp.relpath(target, folder), link)
                n += 1
    return dict(
        out=out,
        layout=layout,
        size=list(size),
        train=train,
        test=test,
        distinct=len(ids),
        links=n,
        seconds=round(time.perf_counter() - tic, 2))


# -------------------------------------------------------------- configs
def _replace_scale(pipeline: list, scale) -> list:
    out = []
    for step in pipeline:
        step = dict(step)
        if step.get('type') == 'MultiTaskResize':
            step['scale'] = tuple(scale)
        out.append(step)
    return out


def write_config(base: str,
                 out: str,
                 data_root: str,
                 iters: int,
                 scale=None,
                 batch: Optional[int] = None,
                 workers: Optional[int] = None) -> str:
    """Write the config of a run: ``base`` as it is, with the data root,
    ``iters`` iterations per phase and the measuring hooks (and the
    dry run's size, batch and workers)."""
    from mmengine.config import Config
    cfg = Config.fromfile(base)
    phases = [
        dict(task=p['task'], max_iters=iters) for p in cfg.train_cfg.phases
    ]
    hooks = [dict(h) for h in cfg.get('custom_hooks', None) or []]
    hooks += [dict(type='StepProfileHook'), dict(type='RankEqualityHook')]
    train_ds = dict(data_root=data_root)
    val_ds = dict(data_root=data_root)
    if scale is not None:
        train_ds['pipeline'] = _replace_scale(
            cfg.train_dataloader.dataset.pipeline, scale)
        val_ds['pipeline'] = _replace_scale(
            cfg.val_dataloader.dataset.pipeline, scale)
    loader = {}
    if batch is not None:
        loader['batch_size'] = batch
    if workers is not None:
        loader.update(num_workers=workers, persistent_workers=workers > 0)
    lines = [
        '# Written by benchmarks/gpu/gpu_bench.py configs: the config below',
        '# as it is, on fake data, a few iterations per phase, measured.',
        f'_base_ = [{osp.abspath(base)!r}]',
        "custom_imports = dict(imports=['gpu_bench_hooks'], "
        'allow_failed_imports=False)',
        f'train_dataloader = {dict(loader, dataset=train_ds)!r}',
        f'val_dataloader = {dict(loader, dataset=val_ds)!r}',
        'test_dataloader = val_dataloader',
        f'train_cfg = dict(phases={phases!r}, progress_bar=False)',
        f'custom_hooks = {hooks!r}',
        '# no other checkpoints than the loop\'s one per phase',
        'default_hooks = dict(checkpoint=dict(interval=10**9, '
        f'save_last=False), logger=dict(interval={max(1, iters // 2)}))',
    ]
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return out


# ------------------------------------------------------------ rank-train
def rank_train(argv: List[str]) -> None:
    """``tools/train.py`` under torchrun, every rank on device 0 when the
    ranks outnumber the GPUs (here: 2 processes on the one GPU)."""
    import importlib.util

    import torch
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus:
        local = int(os.environ.get('LOCAL_RANK', '0'))
        os.environ['LOCAL_RANK'] = str(local % gpus)
    spec = importlib.util.spec_from_file_location(
        'had_mm_tools_train', osp.join(ROOT, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    train.main(list(argv) + ['--launcher', 'pytorch'])


# ------------------------------------------------------------- summarize
def _round(seconds):
    return round(seconds, 2) if seconds is not None else None


def _ms(values):
    return round(1000 * values, 2) if values is not None else None


def phase_stats(phase: dict, skip: int) -> dict:
    """Median (and min) step time of a phase without its first ``skip``
    steps (kept when that would leave none), the median wait for a
    batch, and the peak memory of one step (largest of the phase)."""
    steps = phase.get('step_s') or []
    timed = steps[skip:] if len(steps) > skip else steps
    waits = phase.get('wait_s') or []
    waits = waits[skip:] if len(waits) > skip else waits
    peaks = phase.get('peak_alloc_mib') or []
    reserved = phase.get('reserved_mib') or []
    return dict(
        phase=phase['phase'],
        task=phase['task'],
        steps=len(steps),
        timed=len(timed),
        step_ms_median=_ms(statistics.median(timed)) if timed else None,
        step_ms_min=_ms(min(timed)) if timed else None,
        wait_ms_median=_ms(statistics.median(waits)) if waits else None,
        peak_step_mib=round(max(peaks), 1) if peaks else None,
        reserved_mib=round(max(reserved), 1) if reserved else None,
        setup_s=_round(phase.get('setup_s')),
        train_s=_round(phase.get('train_s')),
        eval_s=_round(phase.get('eval_s')))


def _read_json(path: str):
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _read_steps(path: str) -> dict:
    steps = {}
    if not path or not osp.isfile(path):
        return steps
    with open(path) as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if len(parts) >= 3:
                steps[parts[0]] = dict(
                    status=parts[1],
                    seconds=int(parts[2]) if parts[2].isdigit() else None,
                    command=parts[3] if len(parts) > 3 else '')
    return steps


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def summarize(work: str, out: str, command: str, runs: List[str], skip: int,
              steps_file: Optional[str], meta: dict) -> dict:
    """Collect every run's ``gpu_profile.json`` (and the ranks' check)
    into ``out/results.json`` and ``out/results.csv``.

    Runs are named ``<method>_<precision>`` (``had_bf16``, ``ft_fp32``)
    or ``dist2_<precision>``.
    """
    steps = _read_steps(steps_file)
    results = dict(
        command=command,
        date=time.strftime('%Y-%m-%d %H:%M:%S %Z'),
        settings=dict(meta, skip_first_steps=skip),
        steps=steps,
        runs={})
    for run in runs:
        profile = _read_json(osp.join(work, 'runs', run, 'gpu_profile.json'))
        entry = dict(step=steps.get(run))
        if profile is not None:
            entry.update({k: v for k, v in profile.items() if k != 'phases'})
            entry['phases'] = [phase_stats(p, skip) for p in profile['phases']]
        results['runs'][run] = entry
    # HAD over fine-tuning, per precision and phase
    overhead = {}
    precision = {}
    for run, entry in results['runs'].items():
        method, _, prec = run.partition('_')
        if method != 'had' or 'phases' not in entry:
            continue
        ft = results['runs'].get(f'ft_{prec}', {})
        if 'phases' in ft:
            overhead[prec] = [
                dict(
                    phase=h['phase'],
                    task=h['task'],
                    had_ms=h['step_ms_median'],
                    finetune_ms=f['step_ms_median'],
                    ratio=_ratio(h['step_ms_median'], f['step_ms_median']))
                for h, f in zip(entry['phases'], ft['phases'])
            ]
    for method in ('had', 'ft'):
        base = results['runs'].get(f'{method}_fp32', {})
        rows = {}
        for prec in ('fp32', 'bf16', 'fp16'):
            entry = results['runs'].get(f'{method}_{prec}', {})
            if 'phases' not in entry:
                continue
            rows[prec] = dict(
                step_ms=[p['step_ms_median'] for p in entry['phases']],
                peak_step_mib=max(
                    (p['peak_step_mib'] or 0 for p in entry['phases']),
                    default=None) or None,
                vs_fp32=[
                    _ratio(p['step_ms_median'], b['step_ms_median'])
                    for p, b in zip(entry['phases'], base.get('phases', []))
                ])
        if rows:
            precision[method] = rows
    results['had_overhead'] = overhead
    results['precision'] = precision
    ranks = {}
    for run in runs:
        if run.startswith('dist'):
            check = _read_json(
                osp.join(work, 'runs', run, 'rank_equality.json'))
            note_file = osp.join(work, 'runs', run, 'backend_note.txt')
            if check is not None:
                ranks[run] = check
                if osp.isfile(note_file):
                    with open(note_file) as f:
                        check['note'] = f.read().strip()
    results['rank_equality'] = ranks
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    _write_csv(osp.join(out, 'results.csv'), results, overhead)
    return results


CSV_FIELDS = ('run', 'phase', 'task', 'steps', 'timed', 'step_ms_median',
              'step_ms_min', 'wait_ms_median', 'peak_step_mib', 'reserved_mib',
              'setup_s', 'train_s', 'eval_s', 'had_over_finetune')


def _write_csv(path: str, results: dict, overhead: dict) -> None:
    with open(path, 'w', newline='') as f:
        f.write(f'# command: {results["command"]}\n')
        f.write(f'# date: {results["date"]}\n')
        settings = ', '.join(f'{k}={v}'
                             for k, v in results['settings'].items())
        f.write(f'# settings: {settings}\n')
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for run, entry in results['runs'].items():
            prec = run.partition('_')[2]
            ratios = {
                o['phase']: o['ratio']
                for o in overhead.get(prec, [])
            } if run.startswith('had_') else {}
            for p in entry.get('phases', []):
                writer.writerow(
                    dict({k: p.get(k)
                          for k in CSV_FIELDS if k in p},
                         run=run,
                         had_over_finetune=ratios.get(p['phase'])))


def format_summary(results: dict) -> str:
    """The figures as text tables (for summary.txt)."""
    lines = []
    for run, entry in results['runs'].items():
        if 'phases' not in entry:
            status = (entry.get('step') or {}).get('status', 'not run')
            lines.append(f'{run}: no figures ({status})')
            continue
        lines.append(f'{run}: {entry.get("device")}, '
                     f'{entry.get("optim_wrapper")} '
                     f'amp={entry.get("amp_dtype")}, '
                     f'{entry.get("world_size")} rank(s), batch '
                     f'{entry.get("batch_size")}/rank, cudnn.benchmark='
                     f'{entry.get("cudnn_benchmark")}, tf32='
                     f'{entry.get("tf32_matmul")}, total '
                     f'{entry.get("total_train_s", 0):.1f} s')
        lines.append('  phase task      step ms (median, min)  wait ms  '
                     'peak MiB/step  setup s  train s  eval s')
        for p in entry['phases']:
            lines.append(f'  {p["phase"]:<5} {p["task"]:<9} '
                         f'{p["step_ms_median"]!s:>9} {p["step_ms_min"]!s:>9}'
                         f'  {p["wait_ms_median"]!s:>8} '
                         f'{p["peak_step_mib"]!s:>13} {p["setup_s"]!s:>8}'
                         f' {p["train_s"]!s:>8} {p["eval_s"]!s:>7}')
    for prec, rows in results['had_overhead'].items():
        ratios = ', '.join(f'{r["phase"]}:{r["ratio"]}' for r in rows)
        lines.append(f'HAD / fine-tuning step time, {prec}, per phase: '
                     f'{ratios}')
    for method, rows in results['precision'].items():
        for prec, row in rows.items():
            lines.append(f'{method} {prec}: step ms per phase '
                         f'{row["step_ms"]}, vs fp32 {row["vs_fp32"]}, '
                         f'peak MiB/step {row["peak_step_mib"]}')
    for run, check in results['rank_equality'].items():
        unequal = {}
        for c in check['checks']:
            for group, g in c['groups'].items():
                if g['unequal']:
                    key = f'phase {c["phase"]} {c["when"]} {group}'
                    unequal[key] = f'{g["unequal"]}/{g["tensors"]}'
        verdict = 'EQUAL' if check['equal'] else 'UNEQUAL'
        lines.append(f'{run}: {check["world_size"]} ranks over '
                     f'{check["backend"]}, {len(check["checks"])} checks: '
                     f'every parameter and buffer {verdict} across ranks' +
                     (f' (unequal tensors: {unequal})' if unequal else ''))
        if check.get('note'):
            lines.append(f'  {check["note"]}')
    return '\n'.join(lines)


# ----------------------------------------------------------------- main
def main(argv: Optional[List[str]] = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['rank-train']:
        rank_train(argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('fake-nyuv2', help='fake NYUv2 at the real sizes')
    p.add_argument('out')
    p.add_argument('--size', type=int, nargs=2, default=[288, 384])
    p.add_argument('--train', type=int, default=795)
    p.add_argument('--test', type=int, default=654)
    p.add_argument('--distinct', type=int, default=16)
    p.add_argument('--layout', choices=['toolkit', 'numpy'], default='toolkit')
    p = sub.add_parser('configs', help='the configs of the runs')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--iters', type=int, required=True)
    p.add_argument(
        '--config',
        action='append',
        required=True,
        metavar='NAME=CONFIG',
        help='a run config NAME.py inheriting CONFIG (repeatable)')
    p.add_argument('--scale', type=int, nargs=2)
    p.add_argument('--batch', type=int)
    p.add_argument('--workers', type=int)
    p = sub.add_parser('summarize', help='results.json and results.csv')
    p.add_argument('--work', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--command', required=True)
    p.add_argument('--runs', nargs='*', default=[])
    p.add_argument('--skip', type=int, default=3)
    p.add_argument('--steps')
    p.add_argument(
        '--meta',
        action='append',
        default=[],
        metavar='KEY=VALUE',
        help='a setting recorded in the header')
    args = parser.parse_args(argv)
    if args.cmd == 'fake-nyuv2':
        summary = fake_nyuv2(
            args.out,
            size=args.size,
            train=args.train,
            test=args.test,
            distinct=args.distinct,
            layout=args.layout)
        print(json.dumps(summary))
    elif args.cmd == 'configs':
        for item in args.config:
            name, _, base = item.partition('=')
            path = write_config(
                base,
                osp.join(args.out_dir, f'{name}.py'),
                args.data,
                args.iters,
                scale=args.scale,
                batch=args.batch,
                workers=args.workers)
            print(path)
    else:
        meta = dict(m.split('=', 1) for m in args.meta)
        results = summarize(args.work, args.out, args.command, args.runs,
                            args.skip, args.steps, meta)
        print(format_summary(results))


if __name__ == '__main__':
    main()
