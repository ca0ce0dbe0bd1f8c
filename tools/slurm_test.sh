#!/usr/bin/env bash
# Usage: [GPUS=4] [GPUS_PER_NODE=4] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
# As tools/slurm_train.sh, for tools/test.py (--launcher slurm).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SLURM_TOOL=test
source "$ROOT/tools/slurm_common.sh"
check_usage 4 "$0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]" "$@"
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
shift 4
slurm_check_file 'config file' "$CONFIG"
slurm_check_file checkpoint "$CHECKPOINT"
slurm_setup "$ROOT"
slurm_run "$ROOT" "$PARTITION" "$JOB_NAME" "$ROOT/tools/test.py" "$CONFIG" \
    "$CHECKPOINT" --launcher=slurm "$@"
