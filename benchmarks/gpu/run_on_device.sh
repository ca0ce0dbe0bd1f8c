#!/usr/bin/env bash
# The GPU measurements of had_mm in one call, on a machine with CUDA torch
# (2.11, Python 3.12) and no package index:
#
#   bash benchmarks/gpu/run_on_device.sh OUTPUT_DIR [--dry-run]
#
# 1. installs the wheels that benchmarks/gpu/prepare.sh fetched (carried in
#    benchmarks/gpu/wheels/) into a folder put on PYTHONPATH (the machine's
#    python3 is itself a venv, which a --system-site-packages venv would not
#    see);
# 2. builds mmcv 2.1.0 from the carried source with its CPU ops only (the GPU
#    hidden during the build: had_mm's models need no CUDA op), all cores;
# 3. runs benchmarks/lifelong_step_cost.py on CUDA at the reference size
#    (288x384, batch 8) in fp32, AMP, channels_last and both;
# 4. a 2-phase lifelong smoke run on CUDA (--amp, channels_last), and
# 5. the same through tools/dist_train.sh on 1 GPU (fp32);
# and writes every figure and log to OUTPUT_DIR (at most 8 files: env.txt,
# mmcv_build.log, step_cost.txt, smoke_lifelong.log, smoke_report.json,
# dist_train.log, summary.txt). Each step has a time cap, and all of them a
# deadline (HAD_MM_DEADLINE_S, default 540 s), so the call ends within 10
# minutes; a step that fails or runs out of time is recorded in summary.txt
# and the later steps still run (except after a failed install or build).
#
# --dry-run checks the carried files (MANIFEST against
# requirements-device.txt, and that every wheel installs on CPython 3.12
# x86-64) and prints each step's command, on any machine. PYTHON chooses the
# interpreter (default python3).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MMCV_VERSION=2.1.0
DRY_RUN=0
OUTDIR=""
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        -*) echo "error: unknown option '$arg'" >&2; exit 2 ;;
        *) OUTDIR="$arg" ;;
    esac
done
if [[ -z "$OUTDIR" ]]; then
    echo "usage: $0 OUTPUT_DIR [--dry-run]" >&2
    exit 2
fi
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
WHEELS="${HAD_MM_WHEELS:-$HERE/wheels}"
WORK="${HAD_MM_GPU_WORK:-/tmp/had_mm_gpu}"
SITE="$WORK/site"         # runtime packages (PYTHONPATH)
BUILD_SITE="$WORK/build"  # setuptools < 70, for the mmcv build only
PY="${PYTHON:-python3}"
START=$(date +%s)
DEADLINE=$((START + ${HAD_MM_DEADLINE_S:-540}))
SUMMARY="$OUTDIR/summary.txt"
: > "$SUMMARY"

note() { echo "$*" | tee -a "$SUMMARY"; }

# The wheels and archive the run needs, from MANIFEST and the requirements.
check_carried() {
    if [[ ! -f "$WHEELS/MANIFEST" ]]; then
        note "error: $WHEELS/MANIFEST is missing: run bash benchmarks/gpu/prepare.sh here first and carry ${WHEELS#"$ROOT"/}"
        return 1
    fi
    local missing=0 req name version norm
    while read -r req; do
        req="${req%%#*}"
        [[ -z "${req// }" ]] && continue
        name="${req%%==*}"
        version="${req##*==}"
        norm="$(echo "$name" | tr '[:upper:]-' '[:lower:]_')"
        if ! grep -qiE "^${norm}-${version}-.*\.whl$" "$WHEELS/MANIFEST"; then
            note "error: no wheel of $name==$version in $WHEELS"
            missing=1
        fi
    done < "$HERE/requirements-device.txt"
    if ! grep -qx "mmcv-$MMCV_VERSION.tar.gz" "$WHEELS/MANIFEST"; then
        note "error: no mmcv-$MMCV_VERSION.tar.gz in $WHEELS"
        missing=1
    fi
    local f
    while read -r f; do
        if [[ ! -f "$WHEELS/$f" ]]; then
            note "error: $f is in MANIFEST but not in $WHEELS"
            missing=1
        fi
    done < "$WHEELS/MANIFEST"
    return $missing
}

# step NAME CAP_S LOG CMD...: run CMD with a time cap (and the deadline),
# output to LOG, and record its status and time in the summary.
step() {
    local name=$1 cap=$2 log=$3
    shift 3
    local left=$((DEADLINE - $(date +%s)))
    local limit=$((cap < left ? cap : left))
    if [[ $DRY_RUN == 1 ]]; then
        note "[dry-run] $name (cap ${cap} s) > ${log#"$OUTDIR"/}: $*"
        return 0
    fi
    if ((limit < 10)); then
        note "$name: skipped, the deadline is reached"
        return 1
    fi
    local t0=$(date +%s) rc
    # bash -c: the steps are (exported) shell functions too
    timeout --kill-after=10 "$limit" bash -c '"$@"' "$name" "$@" \
        > "$log" 2>&1
    rc=$?
    local took=$(($(date +%s) - t0))
    if [[ $rc == 0 ]]; then
        note "$name: ok (${took} s)"
    elif [[ $rc == 124 || $rc == 137 ]]; then
        note "$name: stopped at its ${limit} s limit"
    else
        note "$name: failed, exit $rc (${took} s); see ${log#"$OUTDIR"/}"
    fi
    return $rc
}

check_carried || exit 2
# python with the installed packages and had_mm
run_py() {
    PYTHONPATH="$SITE:$ROOT" OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1 \
        "$PY" "$@"
}
DATA="$WORK/rooms"
SMOKE_CFG="$WORK/smoke_2phases.py"
export ROOT WHEELS WORK SITE BUILD_SITE PY MMCV_VERSION OUTDIR DATA SMOKE_CFG
export -f run_py
if [[ $DRY_RUN == 1 ]]; then
    # every wheel must install on the device's interpreter
    tmp="$(mktemp -d)"
    if ! "$PY" -m pip --disable-pip-version-check install -q --dry-run \
        --no-index --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --abi cp312 --platform manylinux2014_x86_64 \
        --target "$tmp" "$WHEELS"/*.whl; then
        note "error: the carried wheels do not install on CPython 3.12"
        exit 2
    fi
    rm -rf "$tmp"
    note "[dry-run] carried files complete: $(wc -l < "$WHEELS/MANIFEST") files in $WHEELS"
fi

# 1. install ------------------------------------------------------------
install_wheels() {
    set -e
    rm -rf "$SITE" "$BUILD_SITE"
    mkdir -p "$SITE" "$BUILD_SITE"
    local runtime=()
    for f in "$WHEELS"/*.whl; do
        [[ "$(basename "$f")" == setuptools-* ]] || runtime+=("$f")
    done
    "$PY" -m pip --disable-pip-version-check install -q --no-index \
        --no-deps --target "$SITE" "${runtime[@]}"
    "$PY" -m pip --disable-pip-version-check install -q --no-index \
        --no-deps --target "$BUILD_SITE" "$WHEELS"/setuptools-*.whl
}

# 2. mmcv, CPU ops ----------------------------------------------------------
build_mmcv() {
    set -e
    local src="$WORK/mmcv-src" dist="$WORK/mmcv-dist"
    rm -rf "$src" "$dist"
    mkdir -p "$src" "$dist"
    tar -xzf "$WHEELS/mmcv-$MMCV_VERSION.tar.gz" -C "$src" \
        --strip-components=1
    # torch >= 2.10 headers need C++20; mmcv 2.1.0 asks for C++17
    local aten
    aten="$("$PY" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "include", "ATen", "ATen.h"))')"
    if grep -q 'C++20 or later' "$aten"; then
        sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    fi
    # no visible GPU: mmcv builds its CPU ops only (minutes, not half an
    # hour), which is all had_mm's models use
    CUDA_VISIBLE_DEVICES="" MMCV_WITH_OPS=1 MAX_JOBS="$(nproc)" \
        PYTHONPATH="$BUILD_SITE" "$PY" -m pip --disable-pip-version-check \
        wheel -v --no-deps --no-build-isolation --no-index -w "$dist" "$src"
    "$PY" -m pip --disable-pip-version-check install -q --no-index \
        --no-deps --target "$SITE" "$dist"/mmcv-*.whl
}

env_report() {
    run_py - <<'EOF'
import platform
import torch
import mmcv
import mmcv.ops  # noqa: F401
import mmengine
import mmseg
import had_mm
print('python', platform.python_version())
print('torch', torch.__version__, 'cuda', torch.version.cuda,
      'cudnn', torch.backends.cudnn.version())
print('gpu', torch.cuda.get_device_name(0) if torch.cuda.is_available()
      else 'none')
print('mmcv', mmcv.__version__, 'mmengine', mmengine.__version__,
      'mmseg', mmseg.__version__, 'had_mm', had_mm.__version__)
assert torch.cuda.is_available(), 'torch sees no GPU'
EOF
    local rc=$?
    nvidia-smi || true
    return $rc
}

export -f install_wheels build_mmcv env_report
[[ $DRY_RUN == 1 ]] || mkdir -p "$WORK"
step install 60 "$OUTDIR/env.txt" install_wheels || exit 1
step build_mmcv 300 "$OUTDIR/mmcv_build.log" build_mmcv
build_rc=$?
if [[ $DRY_RUN == 0 ]]; then
    # the build log is long: keep its end
    tail -n 300 "$OUTDIR/mmcv_build.log" > "$WORK/build_tail.log" \
        && mv "$WORK/build_tail.log" "$OUTDIR/mmcv_build.log"
fi
[[ $build_rc == 0 ]] || exit 1
step environment 60 "$OUTDIR/env.txt" env_report || exit 1

# 3. step cost at the reference size --------------------------------------
step step_cost 200 "$OUTDIR/step_cost.txt" run_py \
    "$ROOT/benchmarks/lifelong_step_cost.py" --reference --device cuda \
    --amp --channels-last --reps 20 --warmup 3 --workers 8

# 4./5. lifelong smoke runs -------------------------------------------------
if [[ $DRY_RUN == 0 ]]; then
    mkdir -p "$WORK"
    cat > "$SMOKE_CFG" <<EOF
# 2 phases x 20 iterations of the demo config on generated rooms
_base_ = ['$ROOT/configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py']
train_dataloader = dict(dataset=dict(data_root='$DATA'))
val_dataloader = dict(dataset=dict(data_root='$DATA'))
test_dataloader = val_dataloader
train_cfg = dict(
    phases=[
        dict(task='semantic', max_iters=20),
        dict(task='depth', max_iters=20)
    ],
    progress_bar=False)
default_hooks = dict(logger=dict(interval=5))
EOF
fi
smoke() {
    set -e
    run_py "$ROOT/tools/data/make_synthetic_rooms.py" \
        --out "$DATA" --num 64 --size 96 128 --seed 0
    run_py "$ROOT/tools/train.py" "$SMOKE_CFG" \
        --work-dir "$WORK/smoke" --amp \
        --cfg-options train_cfg.channels_last=True
    cp "$WORK/smoke/lifelong/lifelong_report.json" \
        "$OUTDIR/smoke_report.json"
}
dist_smoke() {
    PYTHONPATH="$SITE" PYTHON="$PY" PORT=29533 bash "$ROOT/tools/dist_train.sh" \
        "$SMOKE_CFG" 1 --work-dir "$WORK/dist" --cfg-options \
        train_cfg.phases.0.max_iters=10 train_cfg.phases.1.max_iters=10
}
export -f smoke dist_smoke
step lifelong_smoke 120 "$OUTDIR/smoke_lifelong.log" smoke
step dist_train_1gpu 100 "$OUTDIR/dist_train.log" dist_smoke

if [[ $DRY_RUN == 0 ]]; then
    # the figures, in the summary too
    note ""
    note "== step cost (benchmarks/lifelong_step_cost.py --reference)"
    grep -E '^(\||device|peak|\(D)' "$OUTDIR/step_cost.txt" >> "$SUMMARY" \
        || true
    note "== smoke runs: last training lines"
    grep -h 'Iter(train)' "$OUTDIR/smoke_lifelong.log" 2>/dev/null \
        | tail -n 2 >> "$SUMMARY" || true
    grep -h 'Iter(train)' "$OUTDIR/dist_train.log" 2>/dev/null \
        | tail -n 1 >> "$SUMMARY" || true
fi
note "total: $(($(date +%s) - START)) s"
