"""What the benchmark drivers share (the lifelong and HeteroAKD grids):
a training tool run in a logged subprocess with its own thread count, a
worker pool whose jobs wait for the jobs they need, and the archived,
fingerprinted checkpoint that keeps every pre-trained run of one grid on
one encoder."""
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Sequence, Tuple


def run_logged(cmd: Sequence[str],
               log_path: str,
               threads: int,
               cwd: str,
               env: Optional[Dict[str, str]] = None) -> Tuple[int, float]:
    """Run ``cmd`` with ``OMP_NUM_THREADS=threads``, its output appended to
    ``log_path``.

    Args:
        cmd (Sequence[str]): The command.
        log_path (str): The log (appended to; its folder is created).
        threads (int): Threads of the child.
        cwd (str): Its working directory.
        env (dict, optional): Variables to set beside the current ones.

    Returns:
        tuple[int, float]: The exit code and the CPU seconds (user +
        system) the child used.
    """
    os.makedirs(osp.dirname(osp.abspath(log_path)), exist_ok=True)
    child_env = dict(os.environ, **(env or {}), OMP_NUM_THREADS=str(threads))
    with open(log_path, 'a') as log:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def run_jobs(jobs: Sequence[dict],
             workers: int,
             work: Callable[[dict], None],
             on_done: Optional[Callable[[], None]] = None) -> List[str]:
    """Run ``work(job)`` for every job on ``workers`` threads; a job waits
    for the jobs its ``needs`` name, and is not run when one of them
    failed.

    A job that needs another must come after it in ``jobs``, so that the
    pool cannot deadlock.

    Args:
        jobs (Sequence[dict]): Each with a unique ``key`` and optionally
            ``needs`` (keys; keys of no job are ignored).
        workers (int): Jobs at once.
        work (callable): Runs one job; raises ``RuntimeError`` when it
            fails.
        on_done (callable, optional): Called, under a lock, after each job
            (to refresh the tables as results arrive).

    Returns:
        list[str]: The errors of the jobs that failed or were not run.
    """
    keys = [job['key'] for job in jobs]
    for i, job in enumerate(jobs):
        for need in job.get('needs', ()):
            if need in keys[i:]:
                raise ValueError(f'job {job["key"]} needs {need}, which '
                                 'does not come before it')
    ready = {key: threading.Event() for key in keys}
    failed, errors = set(), []
    lock = threading.Lock()

    def one(job: dict) -> None:
        try:
            for need in job.get('needs', ()):
                if need in ready:
                    ready[need].wait()
                if need in failed:
                    raise RuntimeError(f'{job["key"]} not run: {need} failed')
            work(job)
        except RuntimeError as err:
            failed.add(job['key'])
            errors.append(str(err))
        finally:
            ready[job['key']].set()
        if on_done is not None:
            with lock:
                on_done()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, jobs))
    return errors


def state_digest(path: str) -> str:
    """sha256 over a checkpoint's tensor names and bytes.

    The file's own bytes are not used: their pickle framing may differ
    between torch versions for the same tensors.

    Args:
        path (str): A state dict, or a checkpoint with ``state_dict``.

    Returns:
        str: The hex digest.
    """
    import torch
    state = torch.load(path, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_fingerprint(record: str, checkpoint: str, **meta) -> None:
    """Keep a grid's runs on one checkpoint: the first call records the
    checkpoint's :func:`state_digest` in ``record`` (with ``meta``); later
    calls, on this machine or a fresh one that re-made the checkpoint,
    must find the same digest.

    Args:
        record (str): The JSON file, kept with the archived results.
        checkpoint (str): The checkpoint the runs start from.
        **meta: How it was made, written beside the digest.

    Raises:
        RuntimeError: The checkpoint differs from the recorded one.
    """
    digest = state_digest(checkpoint)
    if osp.isfile(record):
        with open(record) as f:
            expected = json.load(f)
        if expected['sha256'] != digest:
            raise RuntimeError(
                f'{checkpoint} differs from the checkpoint the archived runs '
                f'started from ({record}: {expected}); re-make it as recorded '
                'there, or archive the new runs under another --results-dir')
        return
    os.makedirs(osp.dirname(osp.abspath(record)), exist_ok=True)
    with open(record, 'w') as f:
        json.dump(dict(sha256=digest, **meta), f, indent=1)


def copy_if_missing(src: str, dst: str) -> None:
    """Copy ``src`` to ``dst``, making its folder, when ``src`` exists and
    ``dst`` does not: how a grid archives a finished file beside its
    results, and restores it from there.

    Args:
        src (str): The file to copy.
        dst (str): Where it goes; an existing file is kept.
    """
    if osp.isfile(src) and not osp.isfile(dst):
        os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
        shutil.copyfile(src, dst)


def keep_one_checkpoint(checkpoint: str, archive: str,
                        make: Callable[[], None], **meta) -> None:
    """The checkpoint every run of a grid starts from (e.g. a pre-trained
    encoder), made once and kept with the archived results.

    Another CPU re-makes a different checkpoint (its kernels round
    differently), so a missing ``checkpoint`` is first copied from
    ``archive``, and made by ``make`` only when there is none. Its
    :func:`state_digest` must then match the one recorded beside the
    archive (``<archive stem>.json``, written with ``meta`` the first
    time); the first checkpoint is archived.

    Args:
        checkpoint (str): Where the runs read it.
        archive (str): Its committed copy (e.g. under
            ``benchmarks/results``).
        make (callable): Writes ``checkpoint``; raises ``RuntimeError``
            when it fails.
        **meta: How it was made, recorded beside the digest.

    Raises:
        RuntimeError: The checkpoint differs from the recorded one.
    """
    copy_if_missing(archive, checkpoint)
    if not osp.isfile(checkpoint):
        make()
    check_fingerprint(osp.splitext(archive)[0] + '.json', checkpoint, **meta)
    copy_if_missing(checkpoint, archive)


# options that say how a grid runs, not what it measures: a results file's
# header leaves them out, so re-tabulating on another machine (other paths,
# other --jobs) rewrites the committed files byte for byte
EXECUTION_OPTIONS = ('--jobs', '--threads', '--work-dir', '--results-dir')


def grid_command(script: str, argv: Sequence[str]) -> str:
    """The command line a results file's header names.

    ``--report-only`` only re-tabulates runs the same command without it
    trained, so the header names that command: re-tabulating never hides
    how the results were made. The execution options
    (:data:`EXECUTION_OPTIONS`, with their values) are left out too: they
    change where and how fast the runs train, not what they measure.

    Args:
        script (str): The driver's path relative to the repository.
        argv (Sequence[str]): Its arguments.

    Returns:
        str: ``python SCRIPT ARGS`` without ``--report-only`` and the
        execution options.
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == '--report-only':
            continue
        elif arg in EXECUTION_OPTIONS:
            skip = True
        elif arg.split('=', 1)[0] in EXECUTION_OPTIONS:
            continue
        else:
            kept.append(arg)
    return ' '.join(['python', script] + kept)
