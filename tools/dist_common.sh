# Shared by tools/dist_train.sh and tools/dist_test.sh (sourced, not run);
# check_usage and default_python serve tools/slurm_common.sh too.

# check_usage MIN USAGE [ARGS...]: "usage: USAGE" and exit status 2 when
# fewer than MIN ARGS are given.
check_usage() {
    local min=$1 usage=$2
    shift 2
    if [[ $# -lt $min ]]; then
        echo "usage: $usage" >&2
        exit 2
    fi
}

# default_python ROOT: PYTHON, unless set, is the project's .venv when it
# exists, else python.
default_python() {
    if [[ -z "${PYTHON:-}" ]]; then
        if [[ -x "$1/.venv/bin/python" ]]; then
            PYTHON="$1/.venv/bin/python"
        else
            PYTHON=python
        fi
    fi
}

# dist_preflight ROOT GPUS TOOL [TOOL ARGS...]: sets PYTHON (default: the
# project's .venv when it exists, else python) and runs
# tools/misc/check_launch.py, which refuses, in one line and once, a PYTHON
# without torch, GPUs torch cannot use, more processes than the machine can
# run, a PORT in use, a bad config, missing data and missing pretrained
# weights (fetched here when they can be).
dist_preflight() {
    local root=$1 gpus=$2 tool=$3
    shift 3
    if ! [[ "$gpus" =~ ^[1-9][0-9]*$ ]]; then
        echo "error: GPUS must be a positive integer (the number of processes), got '$gpus'" >&2
        exit 2
    fi
    default_python "$root"
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        echo "error: PYTHON='$PYTHON' is not an interpreter on this machine; set PYTHON to the python of the environment with had_mm (e.g. PYTHON=$root/.venv/bin/python, made by tools/setup_env.sh)" >&2
        exit 2
    fi
    PYTHONPATH="$root:${PYTHONPATH:-}" \
    "$PYTHON" "$root/tools/misc/check_launch.py" "$gpus" \
        --port "${PORT:-29500}" --node-rank "${NODE_RANK:-0}" \
        --tool "$tool" -- "$@" || exit 2
}

# dist_run ROOT GPUS SCRIPT [ARGS...]: torchrun through
# tools/misc/torchrun.py (bad input: one line, exit 2, no torchrun trace).
# exec: the launcher is this shell's process, so a kill reaches torchrun,
# which stops its ranks; each rank also ends if the launcher dies.
dist_run() {
    local root=$1 gpus=$2
    shift 2
    PYTHONPATH="$root:${PYTHONPATH:-}" OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
    exec "$PYTHON" "$root/tools/misc/torchrun.py" \
        --nnodes="${NNODES:-1}" \
        --node_rank="${NODE_RANK:-0}" \
        --master_addr="${MASTER_ADDR:-127.0.0.1}" \
        --nproc_per_node="$gpus" \
        --master_port="${PORT:-29500}" \
        "$@"
}

# dist_check_file WHAT PATH: one line unless PATH is a file.
dist_check_file() {
    if [[ -d "$2" ]]; then
        echo "error: $1 '$2' is a directory, not a file" >&2
        exit 2
    fi
    if [[ ! -f "$2" ]]; then
        echo "error: $1 '$2' does not exist" >&2
        exit 2
    fi
}
