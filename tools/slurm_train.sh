#!/usr/bin/env bash
# Usage: [GPUS=4] [GPUS_PER_NODE=4] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#     tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
# MMSegmentation's Slurm launcher: srun starts GPUS tasks (GPUS_PER_NODE per
# node, one GPU each) that run tools/train.py with --launcher slurm, so
# mmengine reads the rank and world size from Slurm's environment. SRUN_ARGS
# are extra srun options (e.g. "--quotatype=auto"); PYTHON the interpreter.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SLURM_TOOL=train
source "$ROOT/tools/slurm_common.sh"
check_usage 4 "$0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]" "$@"
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
slurm_check_file 'config file' "$CONFIG"
slurm_setup "$ROOT"
slurm_run "$ROOT" "$PARTITION" "$JOB_NAME" "$ROOT/tools/train.py" "$CONFIG" \
    --work-dir="$WORK_DIR" --launcher=slurm "$@"
