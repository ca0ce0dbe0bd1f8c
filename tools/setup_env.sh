#!/usr/bin/env bash
# Create or reuse the project's virtual environment at .venv/ (idempotent).
#
# - Reuses an existing torch: if the interpreter given by $PYTHON (default
#   python3) already imports torch + torchvision, the venv is created with
#   --system-site-packages so that torch (e.g. a CUDA build) is shared.
#   Otherwise torch 2.14.1 + torchvision 0.29.1 are installed into the venv.
# - Builds mmcv 2.1.0 with compiled ops from source once per torch version and
#   caches the wheel in $HAD_MM_CACHE (default ~/.cache/had_mm/wheels/<key>/).
#   The CPU ops only, even on a GPU machine (no nvcc needed; mmseg only needs
#   mmcv.ops to import): HAD_MM_MMCV_CUDA=1 builds the CUDA ops too
#   (tools/misc/mmcv_build_env.py).
# - Installs had_mm in editable mode with its pinned dependencies.
# A stamp file records a hash of the inputs, so a second call returns at once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="${HAD_MM_TORCH_VERSION:-2.14.1}"
TORCHVISION_VERSION="${HAD_MM_TORCHVISION_VERSION:-0.29.1}"
MMCV_VERSION="2.1.0"
CACHE="${HAD_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/had_mm}"
STAMP="$VENV/.had_mm_ready"

log() { printf '[setup_env] %s\n' "$*"; }

inputs_hash() {
    cat "$ROOT/setup.cfg" "$ROOT/setup.py" "$ROOT/tools/setup_env.sh" \
        "$ROOT"/requirements/*.txt 2>/dev/null | sha256sum | cut -c1-16
}

HASH="$(inputs_hash)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" && -x "$VENV/bin/python" ]]; then
    exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    log "error: '$PYTHON' not found; set PYTHON=/path/to/python3.11 and retry."
    exit 1
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    if "$PYTHON" -c 'import torch, torchvision' >/dev/null 2>&1; then
        log "reusing the torch of $PYTHON (venv with --system-site-packages)"
        "$PYTHON" -m venv --system-site-packages "$VENV"
    else
        log "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

if ! "$PY" -c 'import torch, torchvision' >/dev/null 2>&1; then
    log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
    "${PIP[@]}" install -q "torch==$TORCH_VERSION" \
        "torchvision==$TORCHVISION_VERSION"
fi
TORCH_KEY="$("$PY" -c 'import sys, torch; print(f"torch{torch.__version__}-cuda{torch.version.cuda}-py{sys.version_info[0]}{sys.version_info[1]}")')"
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" >/dev/null 2>&1; then
    BUILD_ENV="$("$PY" "$ROOT/tools/misc/mmcv_build_env.py")"
    OPS_KEY=""
    if grep -q '^FORCE_CUDA=1$' <<<"$BUILD_ENV"; then OPS_KEY="-cuda-ops"; fi
    WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-$TORCH_KEY$OPS_KEY"
    if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv $MMCV_VERSION with compiled ops for $TORCH_KEY"
        # mmcv's setup.py imports pkg_resources (setuptools < 70).
        "${PIP[@]}" install -q "setuptools<70" wheel ninja
        log "(13.6 minutes measured on a fresh 2-core machine; cached in $WHEEL_DIR)"
        BUILD_START=$SECONDS
        mkdir -p "$WHEEL_DIR.tmp"
        BUILD_LOG="$WHEEL_DIR.tmp/build.log"
        SRC_DIR="$WHEEL_DIR.tmp/src"
        "${PIP[@]}" download -q --no-deps --no-binary :all: \
            -d "$WHEEL_DIR.tmp" "mmcv==$MMCV_VERSION"
        mkdir -p "$SRC_DIR"
        tar -xzf "$WHEEL_DIR.tmp"/mmcv-"$MMCV_VERSION".tar.gz \
            -C "$SRC_DIR" --strip-components=1
        # mmcv 2.1.0 compiles with -std=c++17; torch >= 2.10 headers need
        # C++20 (ATen.h: "C++20 or later compatible compiler is required").
        if grep -q 'C++20 or later' \
            "$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')/include/ATen/ATen.h"; then
            sed -i 's/-std=c++17/-std=c++20/g' "$SRC_DIR/setup.py"
        fi
        # Progress: one line per compiled unit, filtered from pip's verbose log.
        # shellcheck disable=SC2046
        env $(tr '\n' ' ' <<<"$BUILD_ENV") MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "${PIP[@]}" wheel -v --no-deps --no-build-isolation \
            -w "$WHEEL_DIR.tmp" "$SRC_DIR" 2>&1 \
            | tee "$BUILD_LOG" \
            | grep --line-buffered -E '^\s*\[[0-9]+/[0-9]+\]' \
            | sed -u -E 's/^\s*(\[[0-9]+\/[0-9]+\]).* -c ([^ ]*\/)?([^ \/]+) .*/[setup_env] mmcv \1 \3/' \
            || true
        if ! ls "$WHEEL_DIR.tmp"/mmcv-*.whl >/dev/null 2>&1; then
            log "error: the mmcv build failed; see $BUILD_LOG"
            exit 1
        fi
        rm -rf "$WHEEL_DIR" "$SRC_DIR"
        mv "$WHEEL_DIR.tmp" "$WHEEL_DIR"
        log "mmcv built in $(( (SECONDS - BUILD_START) / 60 )) min $(( (SECONDS - BUILD_START) % 60 )) s"
    else
        log "reusing the cached mmcv wheel in $WHEEL_DIR"
    fi
    "${PIP[@]}" install -q --no-deps "$WHEEL_DIR"/mmcv-*.whl
fi

# setup.cfg pins setuptools to what torch declares (>= 77.0.3) and what
# mmengine needs to resolve `mmseg::` base configs (pkg_resources: < 82).
log "installing had_mm (editable) and its pinned dependencies"
"${PIP[@]}" install -q -e "$ROOT[tests]"
"$PY" -W ignore::UserWarning -c 'import had_mm, mmcv.ops, mmseg.models, mmpretrain, pkg_resources' \
    || { log "error: the environment does not import; see above"; exit 1; }
echo "$HASH" > "$STAMP"
log "ready: $VENV"
