#!/usr/bin/env bash
# The GPU measurements of had_mm in one call, on a fresh single-GPU machine
# that has its own Python 3.12 and CUDA torch and reaches no package index:
#
#   bash benchmarks/gpu/run_on_device.sh OUTPUT_DIR [--dry-run]
#
# (with benchmarks/gpu/wheels, made by benchmarks/gpu/prepare.sh, carried
# beside the working tree). In order, each step with a time cap and all of
# them before a deadline (HAD_MM_DEADLINE_S, default 510 s; the summary
# comes after it), so the call ends in under 9 minutes:
#
#  1. venv: a venv in $HAD_MM_GPU_WORK (default /tmp/had_mm_gpu) with
#     --system-site-packages and a .pth that adds the site-packages of
#     PYTHON (default python3, itself a venv there), so the machine's torch
#     is used;
#  2. install: the carried wheels, offline (pip --no-index --find-links);
#  3. build_mmcv: mmcv from its carried source with the CPU ops only (GPU
#     hidden, FORCE_CUDA=0, MMCV_WITH_OPS=1, all cores, no build isolation);
#  4. environment: versions, GPU, NCCL, nvidia-smi;
#  5. fake_data: fake NYUv2 in the toolkit layout at 288x384, 795 train /
#     654 test images (16 distinct rooms, the rest symbolic links);
#  6. the NYUv2 entry config end to end (tools/train.py, every phase,
#     evaluation and phase checkpoint; HAD_MM_GPU_ITERS iterations per
#     phase, default 15), measured by gpu_bench_hooks.py: HAD and
#     fine-tuning in bf16 (--amp bf16), fp32 and fp16 (--amp fp16)
#     (HAD_MM_GPU_RUNS="had_bf16 dist2_fp32" chooses the runs, "none"
#     none);
#  7. dist2_fp32: 2 processes on the one GPU over NCCL (over gloo with CUDA
#     tensors where this NCCL refuses two ranks on one GPU, said so in the
#     results), every parameter and buffer compared across ranks at the
#     start and end of every phase;
#  8. summarize: results.json, results.csv (the command in their header)
#     and the figures in summary.txt.
#
# OUTPUT_DIR gets at most 8 files: summary.txt, results.json, results.csv,
# env.txt (the environment report), install.log (venv, pip and the mmcv
# build; apart from env.txt) and runs.log (the end of every run's log).
#
# --dry-run (or DRY_RUN=1) runs the same logic on this machine's CPU at a
# tiny size: the venv (no pip), no install and no build (their commands are
# printed), tiny fake data, 1 iteration per phase, fp32 only (the amp runs
# are printed), 2 gloo ranks. PYTHON is then the project's environment.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MMCV_VERSION=2.1.0
DRY_RUN="${DRY_RUN:-0}"
OUTDIR=""
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
        -*) echo "error: unknown option '$arg'" >&2; exit 2 ;;
        *) OUTDIR="$arg" ;;
    esac
done
if [[ -z "$OUTDIR" ]]; then
    echo "usage: $0 OUTPUT_DIR [--dry-run]" >&2
    exit 2
fi
COMMAND="bash benchmarks/gpu/run_on_device.sh $*"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
WHEELS="${HAD_MM_WHEELS:-$HERE/wheels}"
WORK="${HAD_MM_GPU_WORK:-/tmp/had_mm_gpu}"
PY="${PYTHON:-python3}"
VENV="$WORK/venv"
VPY="$VENV/bin/python"
HAD_CFG="${HAD_MM_GPU_CONFIG:-configs/had/nyuv2_4tasks.py}"
FT_CFG="${HAD_MM_GPU_FT_CONFIG:-configs/had/finetune_r18-d8_nyuv2-4tasks.py}"
if [[ $DRY_RUN == 1 ]]; then
    ITERS="${HAD_MM_GPU_ITERS:-1}"
    SKIP=0
    # tiny: few files, small images, 2 per batch, no loader workers
    FAKE=(--size 32 48 --train 8 --test 4 --distinct 2)
    SHAPE=(--scale 32 48 --batch 2 --workers 0)
    RUNS=(had_fp32 ft_fp32 dist2_fp32)
    PRINTED_RUNS=(had_bf16 ft_bf16 had_fp16)
    # a CPU shared with others: 5 times the caps
    CAP_SCALE=5 RUN_CAP=100 DIST_CAP=180 NCCL_CAP=900 DEADLINE_S=2400
else
    ITERS="${HAD_MM_GPU_ITERS:-15}"
    SKIP="${HAD_MM_GPU_SKIP:-5}"
    FAKE=(--size 288 384 --train 795 --test 654 --distinct 16)
    SHAPE=()
    # most wanted first: a run the deadline skips is recorded as skipped
    RUNS=(had_bf16 ft_bf16 dist2_fp32 had_fp32 had_fp16 ft_fp32)
    PRINTED_RUNS=()
    CAP_SCALE=1 RUN_CAP=100 DIST_CAP=180 NCCL_CAP=100 DEADLINE_S=510
fi
if [[ "${HAD_MM_GPU_RUNS:-}" == none ]]; then
    RUNS=()
elif [[ -n "${HAD_MM_GPU_RUNS:-}" ]]; then
    read -r -a RUNS <<< "$HAD_MM_GPU_RUNS"
fi
START=$(date +%s)
DEADLINE=$((START + ${HAD_MM_DEADLINE_S:-$DEADLINE_S}))
SUMMARY="$OUTDIR/summary.txt"
INSTALL_LOG="$OUTDIR/install.log"
STEPS="$WORK/steps.tsv"
LOGS="$WORK/logs"
: > "$SUMMARY"

note() { echo "$*" | tee -a "$SUMMARY"; }

# + the command, then runs it (or, in a dry run, only prints it)
x() {
    echo "+ $*"
    if [[ $DRY_RUN == 0 ]]; then
        "$@"
    fi
}

# The wheels and archive the run needs: MANIFEST (sha256sum format) against
# requirements-device.txt, and every file's checksum.
check_carried() {
    local manifest="$WHEELS/MANIFEST"
    if [[ ! -f "$manifest" ]]; then
        note "error: $manifest is missing: run bash benchmarks/gpu/prepare.sh here first and carry ${WHEELS#"$ROOT"/}"
        return 1
    fi
    local missing=0 req name version norm
    while read -r req; do
        req="${req%%#*}"
        [[ -z "${req// }" ]] && continue
        name="${req%%==*}"
        version="${req##*==}"
        norm="$(echo "$name" | tr '[:upper:]-' '[:lower:]_')"
        if ! awk '{print $2}' "$manifest" \
            | grep -qiE "^${norm}-${version}-.*\.whl$"; then
            note "error: no wheel of $name==$version in $WHEELS"
            missing=1
        fi
    done < "$HERE/requirements-device.txt"
    if ! awk '{print $2}' "$manifest" | grep -qx "mmcv-$MMCV_VERSION.tar.gz"
    then
        note "error: no mmcv-$MMCV_VERSION.tar.gz in $WHEELS"
        missing=1
    fi
    if [[ $missing == 0 ]] && ! (cd "$WHEELS" && sha256sum --quiet -c MANIFEST)
    then
        note "error: the files in $WHEELS do not match its MANIFEST (run prepare.sh again)"
        missing=1
    fi
    return $missing
}

# step NAME CAP_S LOG CMD...: run CMD with a time cap (and the deadline),
# its output appended to LOG; its status and time go to the summary and
# to steps.tsv.
step() {
    local name=$1 cap=$(($2 * CAP_SCALE)) log=$3
    shift 3
    local left=$((DEADLINE - $(date +%s)))
    local limit=$((cap < left ? cap : left))
    if ((limit < 10)); then
        note "$name: skipped, the deadline is reached"
        printf '%s\tskipped\t0\t%s\n' "$name" "$*" >> "$STEPS"
        return 1
    fi
    local t0 rc took status
    t0=$(date +%s)
    echo "== $name: $*" >> "$log"
    # bash -c: the steps are exported shell functions
    timeout --kill-after=10 "$limit" bash -c '"$@"' "$name" "$@" \
        >> "$log" 2>&1
    rc=$?
    took=$(($(date +%s) - t0))
    if [[ $rc == 0 ]]; then
        status=ok
        note "$name: ok (${took} s)"
    elif [[ $rc == 124 || $rc == 137 ]]; then
        status=timeout
        note "$name: stopped at its ${limit} s limit"
    else
        status="exit-$rc"
        note "$name: failed, exit $rc (${took} s); see ${log#"$OUTDIR"/}"
    fi
    printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$took" "$*" >> "$STEPS"
    return $rc
}

check_carried || exit 2
for cfg in "$HAD_CFG" "$FT_CFG"; do
    if [[ ! -f "$ROOT/$cfg" ]]; then
        note "error: the config $cfg is not in this checkout (HAD_MM_GPU_CONFIG / HAD_MM_GPU_FT_CONFIG name others)"
        exit 2
    fi
done
# a fresh start (only what this script makes)
rm -rf "$VENV" "$WORK"/{runs,configs,logs,nyuv2,mmcv-src} "$STEPS"
mkdir -p "$WORK" "$LOGS" "$WORK/runs" "$WORK/configs"
: > "$INSTALL_LOG"
# had_mm and the hooks first, then whatever PYTHONPATH the caller set
PYTHONPATH_RUN="$ROOT:$HERE${PYTHONPATH:+:$PYTHONPATH}"
export ROOT HERE WHEELS WORK PY VENV VPY MMCV_VERSION DRY_RUN LOGS \
    PYTHONPATH_RUN NCCL_CAP

# 1. venv --------------------------------------------------------------
make_venv() {
    set -e
    if [[ $DRY_RUN == 1 ]]; then
        "$PY" -m venv --system-site-packages --without-pip "$VENV"
    elif ! "$PY" -m venv --system-site-packages "$VENV"; then
        # no ensurepip: the pip of PYTHON's site-packages serves (below)
        rm -rf "$VENV"
        "$PY" -m venv --system-site-packages --without-pip "$VENV"
    fi
    # PYTHON may itself be a venv (the GPU machine's python3 is), whose
    # packages a --system-site-packages venv does not see: add its
    # site-packages after the venv's own (the .pth sorts last).
    local site
    site="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    "$PY" - "$site/zz_had_mm_device_site.pth" <<'EOF'
import site
import sys
dirs = site.getsitepackages()
with open(sys.argv[1], 'w') as f:
    for d in dirs:
        f.write(f'import site; site.addsitedir({d!r})\n')
print('added to the venv:', ', '.join(dirs))
EOF
    # torch is seen (found, not imported: the environment step imports it)
    "$VPY" -c 'import importlib.util as u, sys; s = u.find_spec("torch"); print("venv python", sys.version.split()[0], "torch from", s and s.submodule_search_locations[0]); sys.exit(s is None)'
}

# 2. install -------------------------------------------------------------
# pip_offline ARGS...: pip install from the carried wheels only
pip_offline() {
    x "$VPY" -m pip --disable-pip-version-check install --no-index \
        --find-links "$WHEELS" --no-build-isolation "$@"
}
install_wheels() {
    set -e
    # mmcv's setup.py imports pkg_resources: setuptools < 70, first
    pip_offline "setuptools<70" wheel
    # --no-deps: the machine has the rest (numpy, opencv, matplotlib...),
    # under other names than the OpenMMLab packages ask for
    pip_offline --no-deps -r "$HERE/requirements-device.txt"
}

# 3. mmcv, CPU ops ---------------------------------------------------------
build_mmcv() {
    set -e
    local src="$WORK/mmcv-src"
    x mkdir -p "$src"
    x tar -xzf "$WHEELS/mmcv-$MMCV_VERSION.tar.gz" -C "$src" \
        --strip-components=1
    # torch >= 2.10 headers need C++20; mmcv 2.1.0 asks for C++17
    local aten
    aten="$("$VPY" -c 'import importlib.util as u, os; print(os.path.join(u.find_spec("torch").submodule_search_locations[0], "include", "ATen", "ATen.h"))')"
    if grep -q 'C++20 or later' "$aten"; then
        x sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    fi
    # ninja (the carried one, in the venv) runs the compilers in parallel
    export PATH="$VENV/bin:$PATH"
    echo "ninja: $(ninja --version 2>/dev/null || echo 'not found: one file at a time')"
    # no visible GPU: the CPU ops only (no nvcc; had_mm uses no CUDA op)
    # -g0: no debug information (a quicker build, a smaller library)
    x env CUDA_VISIBLE_DEVICES= FORCE_CUDA=0 MMCV_WITH_OPS=1 CFLAGS=-g0 \
        MAX_JOBS="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" \
        "$VPY" -m pip --disable-pip-version-check \
        install --no-index --find-links "$WHEELS" --no-build-isolation \
        --no-deps -v "$src" > "$LOGS/mmcv_build.log" 2>&1 || {
        tail -n 80 "$LOGS/mmcv_build.log"
        return 1
    }
    echo "compiled units: $(grep -cE '^\[[0-9]+/[0-9]+\]' \
        "$LOGS/mmcv_build.log")"
    tail -n 5 "$LOGS/mmcv_build.log"
}

# 4. environment -----------------------------------------------------------
env_report() {
    PYTHONPATH="$PYTHONPATH_RUN" "$VPY" - <<'EOF'
import os
import platform
import subprocess
import sys

import torch

dry = os.environ.get('DRY_RUN') == '1'
print('python', platform.python_version(), sys.executable)
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn',
      torch.backends.cudnn.version())
if torch.cuda.is_available():
    print('gpu', torch.cuda.get_device_name(0), 'capability',
          torch.cuda.get_device_capability(0), 'memory',
          f'{torch.cuda.get_device_properties(0).total_memory / 2**30:.1f}'
          ' GiB', 'bf16', torch.cuda.is_bf16_supported())
    print('nccl', '.'.join(map(str, torch.cuda.nccl.version())))
else:
    print('gpu none')
import mmcv  # noqa: E402
import mmcv.ops  # noqa: E402,F401
import mmengine  # noqa: E402
import mmpretrain  # noqa: E402
import mmseg  # noqa: E402
import numpy  # noqa: E402

import had_mm  # noqa: E402
print('mmcv', mmcv.__version__, '(ops loaded)', 'mmengine',
      mmengine.__version__, 'mmseg', mmseg.__version__, 'mmpretrain',
      mmpretrain.__version__, 'numpy', numpy.__version__, 'had_mm',
      had_mm.__version__)
print('cpus', os.cpu_count())
try:
    rev = subprocess.run(['git', '-C', os.environ['ROOT'], 'rev-parse',
                          'HEAD'], capture_output=True, text=True).stdout
    print('git', rev.strip() or 'unknown (no .git)')
except OSError:
    print('git unknown')
if not dry:
    assert torch.cuda.is_available(), 'torch sees no GPU'
EOF
    local rc=$?
    nvidia-smi 2>/dev/null || echo "nvidia-smi: not available"
    command -v nvcc >/dev/null && nvcc --version | tail -n 2
    return $rc
}

# 5. fake data -------------------------------------------------------------
fake_data() {
    set -e
    PYTHONPATH="$PYTHONPATH_RUN" "$VPY" "$HERE/gpu_bench.py" fake-nyuv2 \
        "$WORK/nyuv2" "$@"
}

# 6./7. the runs -----------------------------------------------------------
# NO_CHECK: the override that skips the data check, after the first run
no_check() {
    NO_CHECK=()
    [[ $CHECK_DATA == 1 ]] || NO_CHECK=(train_cfg.check_data=False)
}
# train_run NAME CONFIG [--amp MODE]: tools/train.py as a user runs it
train_run() {
    local name=$1 cfg=$2
    shift 2
    local rc
    no_check
    # (as a user runs it: OMP_NUM_THREADS as the caller has it)
    PYTHONPATH="$PYTHONPATH_RUN" PYTHONUNBUFFERED=1 \
        "$VPY" "$ROOT/tools/train.py" "$cfg" --work-dir "$WORK/runs/$name" \
        "$@" --cfg-options model.backbone.init_cfg=None "${NO_CHECK[@]}"
    rc=$?
    rm -f "$WORK/runs/$name"/*.pth
    return $rc
}
# dist_run NAME CONFIG [args]: 2 processes on the one GPU (torchrun)
dist_run() {
    local name=$1 cfg=$2
    shift 2
    local work="$WORK/runs/$name" rc
    no_check
    # torchrun_2 CAP_S [cfg-options...] -- [train.py args...]
    torchrun_2() {
        local cap=$1 port options=()
        shift
        while [[ $# -gt 0 && $1 != -- ]]; do
            options+=("$1")
            shift
        done
        shift
        port="${PORT:-$("$VPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
        PYTHONPATH="$PYTHONPATH_RUN" OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1 \
            timeout --kill-after=5 "$cap" \
            "$VPY" -m torch.distributed.run --nproc_per_node=2 \
            --master_port="$port" "$HERE/gpu_bench.py" rank-train \
            "$cfg" --work-dir "$work" "$@" \
            --cfg-options model.backbone.init_cfg=None "${NO_CHECK[@]}" \
            "${options[@]}"
    }
    # NCCL >= 2.30 lets several ranks share a GPU when asked; a cap of its
    # own, so that a hang leaves time for the gloo run
    NCCL_MULTI_RANK_GPU_ENABLE=1 torchrun_2 "$NCCL_CAP" -- "$@" \
        2>&1 | tee "$WORK/$name.first.log"
    rc=${PIPESTATUS[0]}
    if [[ $rc != 0 ]] && "$VPY" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'
    then
        local why
        why="$(grep -m1 -oE 'Duplicate GPU detected[^.]*|ncclInvalidUsage[^.]*|NCCL error[^,]*' "$WORK/$name.first.log" || echo "exit $rc")"
        rm -rf "$work"
        mkdir -p "$work"
        echo "NCCL refused or failed 2 ranks on one GPU ($why); run again over gloo with CUDA tensors" \
            | tee "$work/backend_note.txt"
        torchrun_2 600 env_cfg.dist_cfg.backend=gloo -- "$@"
        rc=$?
    fi
    rm -f "$work"/*.pth
    return "$rc"
}
export -f x pip_offline make_venv install_wheels build_mmcv env_report fake_data \
    no_check train_run dist_run

step venv 60 "$INSTALL_LOG" make_venv || exit 1
step install 90 "$INSTALL_LOG" install_wheels || exit 1
step build_mmcv 360 "$INSTALL_LOG" build_mmcv || exit 1
step environment 60 "$OUTDIR/env.txt" env_report || exit 1
step fake_data 60 "$LOGS/fake_data.log" fake_data "${FAKE[@]}" || exit 1
step configs 60 "$LOGS/configs.log" env PYTHONPATH="$PYTHONPATH_RUN" "$VPY" \
    "$HERE/gpu_bench.py" configs --out-dir "$WORK/configs" \
    --data "$WORK/nyuv2" --iters "$ITERS" "${SHAPE[@]}" \
    --config "had=$ROOT/$HAD_CFG" --config "ft=$ROOT/$FT_CFG" || exit 1

run_args() {  # the config and flags of a run NAME = <method>_<precision>
    local method=${1%%_*} prec=${1#*_}
    local cfg="$WORK/configs/had.py"
    [[ $method == ft ]] && cfg="$WORK/configs/ft.py"
    ARGS=("$cfg")
    [[ $prec == fp32 ]] || ARGS+=(--amp "$prec")
}
for run in "${PRINTED_RUNS[@]}"; do
    run_args "$run"
    note "[dry-run] $run: not run on a CPU: tools/train.py ${ARGS[*]} --cfg-options model.backbone.init_cfg=None"
done
# the first run reads every data file before training, as the config asks
# (train_cfg.check_data); the others skip that (seconds each)
CHECK_DATA=1
for run in "${RUNS[@]}"; do
    run_args "$run"
    export CHECK_DATA
    if [[ $run == dist2_* ]]; then
        step "$run" "$DIST_CAP" "$LOGS/$run.log" dist_run "$run" "${ARGS[@]}"
    else
        step "$run" "$RUN_CAP" "$LOGS/$run.log" train_run "$run" "${ARGS[@]}"
    fi
    CHECK_DATA=0
done

# 8. summary -------------------------------------------------------------
{
    for log in "$LOGS"/*.log; do
        [[ "$(basename "$log")" == mmcv_build.log ]] && continue
        echo "==== $(basename "$log") (last 40 lines)"
        tail -n 40 "$log"
    done
} > "$OUTDIR/runs.log"
if [[ -f "$LOGS/mmcv_build.log" ]]; then
    {
        echo "==== mmcv build (last 60 lines of $LOGS/mmcv_build.log)"
        tail -n 60 "$LOGS/mmcv_build.log"
    } >> "$INSTALL_LOG"
fi
note ""
note "== figures"
PYTHONPATH="$PYTHONPATH_RUN" timeout 60 "$VPY" "$HERE/gpu_bench.py" summarize \
    --work "$WORK" --out "$OUTDIR" --command "$COMMAND" \
    --runs "${RUNS[@]}" --skip "$SKIP" --steps "$STEPS" \
    --meta "dry_run=$DRY_RUN" --meta "config=$HAD_CFG" \
    --meta "finetune_config=$FT_CFG" --meta "iters_per_phase=$ITERS" \
    --meta "fake_data=${FAKE[*]}" >> "$SUMMARY" 2>&1 \
    || note "summarize: failed"
note "total: $(($(date +%s) - START)) s"
