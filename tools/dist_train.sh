#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [train.py args...]
# One process per GPU (NCCL); on a machine without GPUs, GPUS processes on
# the CPU (gloo). Set PYTHON to choose the interpreter, PORT/NNODES/NODE_RANK/
# MASTER_ADDR for multi-node runs. PYTHON defaults to the project's .venv
# when it exists.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/tools/dist_common.sh"
check_usage 2 "$0 CONFIG GPUS [train.py args...]" "$@"
CONFIG=$1
GPUS=$2
shift 2
dist_check_file 'config file' "$CONFIG"
dist_preflight "$ROOT" "$GPUS" train "$CONFIG" "$@"
dist_run "$ROOT" "$GPUS" "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
