# Shared by tools/slurm_train.sh and tools/slurm_test.sh (sourced, not run).
# slurm_setup ROOT: checks GPUS, GPUS_PER_NODE and CPUS_PER_TASK (positive
# integers, defaults 4, 4 and 5 as in MMSegmentation), that srun is on the
# PATH, and sets PYTHON (default: the project's .venv when it exists, else
# python). Every refusal is one "error:" line and exit status 2.
source "$(dirname "${BASH_SOURCE[0]}")/dist_common.sh"  # default_python
slurm_setup() {
    local root=$1 name value
    GPUS=${GPUS:-4}
    GPUS_PER_NODE=${GPUS_PER_NODE:-4}
    CPUS_PER_TASK=${CPUS_PER_TASK:-5}
    for name in GPUS GPUS_PER_NODE CPUS_PER_TASK; do
        value=${!name}
        if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
            echo "error: $name must be a positive integer, got '$value'" >&2
            exit 2
        fi
    done
    if (( GPUS < GPUS_PER_NODE )); then
        # one node with fewer GPUs than a full one: ask only for those
        GPUS_PER_NODE=$GPUS
    fi
    if ! command -v srun >/dev/null 2>&1; then
        echo "error: srun is not on the PATH: $(basename "$0") submits through Slurm; on one machine use tools/dist_${SLURM_TOOL}.sh instead" >&2
        exit 2
    fi
    default_python "$root"
}

# slurm_check_file WHAT PATH: one line unless PATH is a file.
slurm_check_file() {
    if [[ ! -f "$2" ]]; then
        echo "error: $1 '$2' does not exist (or is not a file)" >&2
        exit 2
    fi
}

# slurm_run ROOT PARTITION JOB_NAME [ARGS...]: exec srun (GPUS tasks,
# GPUS_PER_NODE per node, one GPU each, SRUN_ARGS added) running
# "$PYTHON" -u ARGS; exec, so that a kill of this shell reaches srun.
slurm_run() {
    local root=$1 partition=$2 job_name=$3 extra
    shift 3
    read -r -a extra <<< "${SRUN_ARGS:-}"
    PYTHONPATH="$root:${PYTHONPATH:-}" \
    exec srun -p "$partition" \
        --job-name="$job_name" \
        --gres=gpu:"$GPUS_PER_NODE" \
        --ntasks="$GPUS" \
        --ntasks-per-node="$GPUS_PER_NODE" \
        --cpus-per-task="$CPUS_PER_TASK" \
        --kill-on-bad-exit=1 \
        ${extra[@]+"${extra[@]}"} \
        "$PYTHON" -u "$@"
}
