#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# As tools/dist_train.sh (PYTHON, PORT, NNODES, NODE_RANK, MASTER_ADDR).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/tools/dist_common.sh"
check_usage 3 "$0 CONFIG CHECKPOINT GPUS [test.py args...]" "$@"
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
dist_check_file 'config file' "$CONFIG"
dist_check_file checkpoint "$CHECKPOINT"
dist_preflight "$ROOT" "$GPUS" test "$CONFIG" "$CHECKPOINT" "$@"
dist_run "$ROOT" "$GPUS" "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
