#!/usr/bin/env bash
# Fetch, on a machine with a package index, what run_on_device.sh installs on
# the GPU machine (CUDA torch 2.11, Python 3.12, no package index): the wheels
# of requirements-device.txt for CPython 3.12 on x86-64 Linux, and the mmcv
# source archive (mmcv is built there, against that machine's torch).
#
#   bash benchmarks/gpu/prepare.sh [WHEEL_DIR] [--dry-run]
#
# WHEEL_DIR defaults to benchmarks/gpu/wheels/ (git-ignored: pass it to the
# device tool's `carry`). --dry-run prints the pip commands only. PYTHON
# chooses the pip (default: the project's .venv, else python3).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MMCV_VERSION=2.1.0
DRY_RUN=0
WHEELS="$HERE/wheels"
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "error: unknown option '$arg'" >&2; exit 2 ;;
        *) WHEELS="$arg" ;;
    esac
done
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then
        PYTHON="$ROOT/.venv/bin/python"
    else
        PYTHON=python3
    fi
fi
PIP=("$PYTHON" -m pip --disable-pip-version-check)

run() {
    echo "+ $*"
    if [[ $DRY_RUN == 0 ]]; then
        "$@"
    fi
}

[[ $DRY_RUN == 1 ]] || mkdir -p "$WHEELS"
# Wheels for the device's interpreter, whatever this machine runs.
run "${PIP[@]}" download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp --abi cp312 \
    --platform manylinux2014_x86_64 -d "$WHEELS" \
    -r "$HERE/requirements-device.txt"
# pip reads an sdist's metadata by running its setup.py, and mmcv's imports
# pkg_resources: lend it the setuptools wheel fetched above (importable as a
# zip), whatever setuptools this environment has.
run env PYTHONPATH="$WHEELS/setuptools-69.5.1-py3-none-any.whl" \
    "${PIP[@]}" download -q --no-deps --no-binary :all: -d "$WHEELS" \
    "mmcv==$MMCV_VERSION"
if [[ $DRY_RUN == 1 ]]; then
    exit 0
fi
# Keep the folder out of git; the device tool's `carry` sends it anyway.
echo '*' > "$WHEELS/.gitignore"
(cd "$WHEELS" && ls -1 ./*.whl ./*.tar.gz | sed 's|^\./||' > MANIFEST)
echo "prepared $(wc -l < "$WHEELS/MANIFEST") files in $WHEELS" \
    "($(du -sh "$WHEELS" | cut -f1)); run on the GPU machine:"
echo "  bash benchmarks/gpu/run_on_device.sh OUTPUT_DIR" \
    "  (carry: ${WHEELS#"$ROOT"/})"
