"""One training run per work dir: a second one is refused in one line."""
import importlib.util
import os

import pytest
from tool_runner import REPO

from had_mm.apis import WorkDirLockedError, lock_work_dir

TINY = os.path.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


def test_a_held_work_dir_is_refused_until_released(tmp_path):
    first = lock_work_dir(str(tmp_path))
    with pytest.raises(WorkDirLockedError) as err:
        lock_work_dir(str(tmp_path))
    msg = str(err.value)
    assert f'pid {os.getpid()}' in msg and str(tmp_path) in msg
    assert '--work-dir' in msg and '\n' not in msg
    first.release()
    lock_work_dir(str(tmp_path)).release()  # free again


def test_only_rank_0_locks(tmp_path, monkeypatch):
    held = lock_work_dir(str(tmp_path))
    monkeypatch.setenv('RANK', '1')
    lock_work_dir(str(tmp_path), 'pytorch').release()  # no lock taken
    monkeypatch.setenv('RANK', '0')
    with pytest.raises(WorkDirLockedError):
        lock_work_dir(str(tmp_path), 'pytorch')
    held.release()


def test_train_refuses_a_work_dir_in_use(synthetic_rooms_root, tmp_path,
                                         capsys):
    """A second run (here --resume while this test holds the lock, as the
    first run does while it trains) stops in one line before it writes
    anything. tools/train.py runs in this process: flock locks of two
    open files conflict within one process too."""
    spec = importlib.util.spec_from_file_location(
        'train_tool', os.path.join(REPO, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    work = tmp_path / 'work'
    work.mkdir()
    argv = [
        TINY, '--work-dir',
        str(work), '--resume', '--cfg-options',
        f'train_dataloader.dataset.data_root={synthetic_rooms_root}',
        f'val_dataloader.dataset.data_root={synthetic_rooms_root}'
    ]
    with lock_work_dir(str(work)):
        with pytest.raises(SystemExit) as exit_info:
            train.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if 'error' in ln]
    assert len(lines) == 1 and 'Traceback' not in err, err
    assert lines[0].startswith('error: work dir') and \
        'in use by another training run' in lines[0]
    assert f'pid {os.getpid()}' in lines[0]
    assert os.listdir(work) == ['.had_mm_train.lock']  # nothing written
