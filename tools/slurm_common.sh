# Shared by tools/slurm_train.sh and tools/slurm_test.sh (sourced, not run).
# slurm_setup ROOT: checks GPUS, GPUS_PER_NODE and CPUS_PER_TASK (positive
# integers, defaults 4, 4 and 5 as in MMSegmentation), that srun is on the
# PATH, and sets PYTHON (default: the project's .venv when it exists, else
# python). Every refusal is one "error:" line and exit status 2.
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
    if [[ -z "${PYTHON:-}" ]]; then
        if [[ -x "$root/.venv/bin/python" ]]; then
            PYTHON="$root/.venv/bin/python"
        else
            PYTHON=python
        fi
    fi
}

# slurm_check_file WHAT PATH: one line unless PATH is a file.
slurm_check_file() {
    if [[ ! -f "$2" ]]; then
        echo "error: $1 '$2' does not exist (or is not a file)" >&2
        exit 2
    fi
}
