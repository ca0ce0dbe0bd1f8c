#!/usr/bin/env bash
# Fetch, on a machine with a package index, what run_on_device.sh installs on
# the GPU machine (Python 3.12, CUDA torch, no package index), and check that
# it fits the 64 MiB that travel there:
#
#   bash benchmarks/gpu/prepare.sh [WHEEL_DIR] [--dry-run]
#
# 1. the wheels of requirements-device.txt for CPython 3.12 on x86-64 Linux
#    (pip download --only-binary :all:), whatever Python runs here;
# 2. the mmcv source archive, downloaded from the index's listing and checked
#    against the index's sha256, without building anything (pip would run
#    mmcv's setup.py, which needs pkg_resources, torch and more);
# 3. WHEEL_DIR/MANIFEST (sha256sum format) and WHEEL_DIR/.gitignore ('*':
#    git ignores the folder; the device tool's `carry` sends it);
# 4. the size check: the working tree that travels (tracked files and
#    untracked files git does not ignore) plus WHEEL_DIR must be <= 64 MiB.
#
# WHEEL_DIR defaults to benchmarks/gpu/wheels/. --dry-run prints the
# downloads and runs the size check only. PYTHON chooses the pip (default:
# the project's .venv if there is one, else python3); PIP_INDEX_URL the
# index (default: pip's configured index-url, else PyPI).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MMCV_VERSION=2.1.0
LIMIT_MIB=64
DRY_RUN=0
WHEELS="$HERE/wheels"
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
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

# The mmcv sdist from the index's project page (PEP 691 JSON or PEP 503
# HTML), its sha256 checked; Python's standard library only.
fetch_sdist() {
    local index="${PIP_INDEX_URL:-}"
    if [[ -z "$index" ]]; then
        index="$("${PIP[@]}" config get global.index-url 2>/dev/null || true)"
    fi
    index="${index:-https://pypi.org/simple}"
    echo "+ fetch mmcv-$MMCV_VERSION.tar.gz from ${index%/}/mmcv/ (no build)"
    [[ $DRY_RUN == 1 ]] && return 0
    "$PYTHON" - "${index%/}/mmcv/" "mmcv-$MMCV_VERSION.tar.gz" "$WHEELS" <<'EOF'
import hashlib
import json
import os
import re
import sys
import urllib.parse
import urllib.request

page, name, folder = sys.argv[1:]
req = urllib.request.Request(page, headers={
    'Accept': 'application/vnd.pypi.simple.v1+json, text/html;q=0.1'})
with urllib.request.urlopen(req, timeout=120) as resp:
    kind = resp.headers.get('Content-Type', '')
    body = resp.read().decode()
if 'json' in kind:
    files = {f['filename']: (f['url'], f['hashes'].get('sha256'))
             for f in json.loads(body)['files']}
else:
    files = {}
    for href in re.findall(r'href="([^"]+)"', body):
        url = urllib.parse.urljoin(page, href.replace('&amp;', '&'))
        base, _, frag = url.partition('#')
        sha = frag.split('=', 1)[1] if frag.startswith('sha256=') else None
        files[urllib.parse.unquote(base.rsplit('/', 1)[-1])] = (base, sha)
if name not in files:
    sys.exit(f'error: {name} is not listed on {page}')
url, sha = files[name]
url = urllib.parse.urljoin(page, url)
with urllib.request.urlopen(url, timeout=300) as resp:
    data = resp.read()
digest = hashlib.sha256(data).hexdigest()
if sha and digest != sha:
    sys.exit(f'error: {name}: sha256 {digest} is not the index\'s {sha}')
with open(os.path.join(folder, name), 'wb') as f:
    f.write(data)
print(f'{name}: {len(data)} bytes, sha256 {digest}'
      f'{" (checked)" if sha else " (the index gave none)"}')
EOF
}

# What travels to the GPU machine: the tracked files and the untracked ones
# git does not ignore (and shared/ where there is one), plus WHEEL_DIR.
check_size() {
    local tree wheels total limit=$((LIMIT_MIB * 1024 * 1024))
    tree="$(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | xargs -0 -r stat -L -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')"
    if [[ -d "$ROOT/shared" ]]; then
        tree=$((tree + $(du -sbL "$ROOT/shared" | cut -f1)))
    fi
    wheels=0
    if [[ -d "$WHEELS" ]]; then
        wheels="$(du -sbL "$WHEELS" | cut -f1)"
    fi
    total=$((tree + wheels))
    mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
    echo "size: tree $(mib "$tree") + wheels $(mib "$wheels") = $(mib "$total") (limit $LIMIT_MIB MiB)"
    if ((total > limit)); then
        echo "the largest files that travel:"
        (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
            | xargs -0 -r du -bL 2>/dev/null | sort -rn | head -n 5 \
            | awk '{printf "  %8.1f MiB  %s\n", $1 / 1048576, $2}')
        if [[ $DRY_RUN == 0 ]]; then
            echo "error: $(mib "$total") would travel, over the $LIMIT_MIB MiB the GPU machine receives; remove the files above from the tree (or ignore them)" >&2
            return 3
        fi
    fi
}

[[ $DRY_RUN == 1 ]] || mkdir -p "$WHEELS"
# Wheels for the device's interpreter, whatever Python runs here.
run "${PIP[@]}" download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp --abi cp312 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d "$WHEELS" -r "$HERE/requirements-device.txt"
fetch_sdist
if [[ $DRY_RUN == 0 ]]; then
    echo '*' > "$WHEELS/.gitignore"
    (cd "$WHEELS" && sha256sum -- *.whl *.tar.gz > MANIFEST)
    echo "prepared $(wc -l < "$WHEELS/MANIFEST") files in $WHEELS"
fi
check_size
echo "on the GPU machine: bash benchmarks/gpu/run_on_device.sh \"\$OUT\"" \
    "(carry: ${WHEELS#"$ROOT"/})"
