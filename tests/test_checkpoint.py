"""had_mm.checkpoint: the allow-list, reading, strict loading and the
restricted reader of foreign checkpoints."""
import importlib.util
import os
import os.path as osp
import pickle
import pickletools
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from tool_runner import REPO

from had_mm import checkpoint
from had_mm.checkpoint import (explain_unpickling_error,
                               register_checkpoint_safe_globals)


class _GetattrPayload:
    """Pickles as getattr(HistoryBuffer, name): what a crafted file does."""

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return (getattr, (HistoryBuffer, self.name))


class _Foreign:
    pass


def test_mmengine_state_loads_weights_only(tmp_path):
    register_checkpoint_safe_globals()
    buf = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buf.update(v)
    state = dict(
        log_scalars={'train/loss': buf},
        meta=dict(seed=np.int64(3), arr=np.arange(3, dtype=np.float32)),
        state_dict={'w': torch.ones(2)})
    path = tmp_path / 'ckpt.pth'
    torch.save(state, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['log_scalars']['train/loss'].mean() == pytest.approx(7 / 3)
    assert loaded['meta']['seed'] == 3
    np.testing.assert_array_equal(loaded['meta']['arr'], [0, 1, 2])


def test_only_history_buffer_statistics_are_reachable(tmp_path):
    register_checkpoint_safe_globals()
    ok = tmp_path / 'ok.pth'
    torch.save({'m': _GetattrPayload('mean')}, ok)
    assert torch.load(ok, weights_only=True)['m'] is HistoryBuffer.mean
    bad = tmp_path / 'bad.pth'
    torch.save({'m': _GetattrPayload('__init__')}, bad)
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        torch.load(bad, weights_only=True)


def test_foreign_checkpoint_gets_a_one_line_explanation(tmp_path):
    path = tmp_path / 'foreign.pth'
    torch.save({'x': _Foreign()}, path)
    with pytest.raises(pickle.UnpicklingError) as err:
        torch.load(path, weights_only=True)
    msg = explain_unpickling_error(str(path), err.value)
    assert msg is not None and '\n' not in msg
    assert '_Foreign' in msg and 'extract_weights.py' in msg
    assert explain_unpickling_error('x', ValueError('other')) is None


# --- loading into a model --------------------------------------------------


def _tiny_net():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 1), torch.nn.Conv2d(4, 2, 1))


def test_strip_prefix_and_revise_keys():
    state = {'module.a.w': torch.ones(1), 'module.b': torch.zeros(1)}
    revised = checkpoint.state_dict_of({'state_dict': state})
    assert list(revised) == ['a.w', 'b']
    assert list(checkpoint.strip_prefix(revised, 'a.')) == ['w']
    assert checkpoint.strip_prefix(revised, 'c.') == {}


def test_revised_keys_keep_the_version_metadata():
    """Modules read their state-dict version from ``_metadata`` on loading
    (as mmengine's loader keeps it); the checkpoint itself is left as it
    was."""
    state = torch.nn.Sequential(torch.nn.BatchNorm2d(2)).state_dict()
    ddp = OrderedDict((f'module.{k}', v) for k, v in state.items())
    ddp._metadata = state._metadata
    revised = checkpoint.state_dict_of(dict(state_dict=ddp))
    assert list(revised) == list(state)
    assert revised._metadata['0']['version'] == 2
    assert list(ddp) == [f'module.{k}' for k in state]
    bare = checkpoint.state_dict_of({'w': torch.ones(1)}, revise_keys=())
    assert list(bare) == ['w'] and not hasattr(bare, '_metadata')


def test_load_into_model_loads_what_fits_and_names_the_rest(capsys):
    src = _tiny_net()
    state = OrderedDict(
        (f'module.{k}', v) for k, v in src.state_dict().items())
    state['module.extra'] = torch.zeros(1)
    dst = _tiny_net()
    checkpoint.load_into_model(dst, dict(state_dict=state))
    for key, value in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[key], value)
    assert 'unexpected key in source state_dict: extra' in \
        capsys.readouterr().out


def test_first_mismatch_is_named(tmp_path):
    net = _tiny_net()
    state = dict(net.state_dict())
    state['1.weight'] = torch.zeros(5, 4, 1, 1)
    state['extra'] = state.pop('0.bias')
    msg = checkpoint.state_dict_mismatch(net, state)
    assert 'first mismatching key "1.weight" has shape (5, 4, 1, 1) in the ' \
        'checkpoint but (2, 4, 1, 1) in the model' in msg
    assert '1 missing keys (first: "0.bias")' in msg
    assert '1 unexpected keys (first: "extra")' in msg
    with pytest.raises(ValueError, match='weights does not fit'):
        checkpoint.load_state_dict_strictly(_tiny_net(), state, 'weights')
    assert checkpoint.state_dict_mismatch(net, net.state_dict()) is None


def test_load_model_checkpoint_is_strict_unless_asked(tmp_path):
    src = _tiny_net()
    path = tmp_path / 'ddp.pth'
    torch.save(
        {
            'state_dict': {
                f'module.{k}': v
                for k, v in src.state_dict().items()
            }
        }, path)
    dst = _tiny_net()
    checkpoint.load_model_checkpoint(dst, str(path))
    for key, value in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[key], value)

    other = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 1), torch.nn.Conv2d(4, 7, 1))
    with pytest.raises(checkpoint.CheckpointLoadError) as err:
        checkpoint.load_model_checkpoint(other, str(path))
    assert '\n' not in str(err.value)
    assert 'first mismatching key "1.weight"' in str(err.value)
    with pytest.warns(UserWarning, match='partial load'):
        checkpoint.load_model_checkpoint(other, str(path), strict=False)
    torch.testing.assert_close(other[0].weight, src[0].weight)


def test_read_checkpoint_errors_are_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        checkpoint.read_checkpoint(str(tmp_path / 'nope.pth'))
    with pytest.raises(checkpoint.CheckpointLoadError, match='is a directory'):
        checkpoint.read_checkpoint(str(tmp_path))
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, good)
    bad = tmp_path / 'truncated.pth'
    bad.write_bytes(good.read_bytes()[:40])
    with pytest.raises(checkpoint.UnreadableCheckpointError) as err:
        checkpoint.read_checkpoint(str(bad))
    assert 'truncated or corrupt' in str(err.value)
    assert '\n' not in str(err.value)
    foreign = tmp_path / 'foreign.pth'
    torch.save({'x': _Foreign()}, foreign)
    with pytest.raises(
            checkpoint.CheckpointLoadError, match='needs full unpickling'):
        checkpoint.read_checkpoint(str(foreign))
    assert list(checkpoint.load_weights(str(good))) == ['w']


# --- foreign checkpoints: the restricted unpickler -------------------------


class _RunsCode:
    """Pickles as os.system('touch MARKER'): what a malicious file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _extract_weights(src, dst):
    spec = importlib.util.spec_from_file_location(
        'extract_weights', osp.join(REPO, 'tools', 'misc',
                                    'extract_weights.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(src), str(dst)])
    return torch.load(str(dst), weights_only=True)['state_dict']


def test_a_malicious_checkpoint_runs_no_code(tmp_path):
    marker = tmp_path / 'MARKER'
    weights = {'a.weight': torch.randn(3, 2), 'a.bias': torch.arange(3)}
    src = tmp_path / 'evil.pth'
    torch.save(
        {
            'state_dict': dict(weights, payload=_RunsCode(marker)),
            'meta': {
                'payload': _RunsCode(marker)
            },
            'payload': _RunsCode(marker)
        }, src)
    # the file does pickle a call of os.system
    with zipfile.ZipFile(src) as archive:
        data = archive.read(
            [n for n in archive.namelist() if n.endswith('data.pkl')][0])
    assert any(
        op.name in ('GLOBAL', 'STACK_GLOBAL') and 'system' in str(arg)
        for op, arg, _ in pickletools.genops(data))

    ckpt = checkpoint.read_foreign_checkpoint(str(src))
    assert isinstance(ckpt['payload'], checkpoint.ForeignObject)
    assert ckpt['payload'].target in ('posix.system', 'nt.system')
    assert checkpoint.without_foreign_objects(ckpt['meta']) == {}

    out = _extract_weights(src, tmp_path / 'out.pth')
    assert not marker.exists()
    assert list(out) == list(weights)
    for key, value in weights.items():
        torch.testing.assert_close(out[key], value)


def test_an_mmengine_checkpoint_converts_to_the_same_tensors(tmp_path):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_checkpoint_convert')
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('iter', 3)
    buf = HistoryBuffer()
    buf.update(2.0)
    net = _tiny_net()
    weights = OrderedDict(
        (f'module.{k}', v) for k, v in net.state_dict().items())
    src = tmp_path / 'iter_3.pth'
    torch.save(
        dict(
            meta=dict(
                seed=np.int64(3),
                arr=np.arange(3, dtype=np.float32),
                buffer=buf,
                mean=HistoryBuffer.mean),
            message_hub=hub.state_dict(),
            state_dict=weights), src)
    # the mmengine types are rebuilt, not stubbed
    ckpt = checkpoint.read_foreign_checkpoint(str(src))
    assert ckpt['meta']['seed'] == 3
    assert ckpt['message_hub']['log_scalars']['train/loss'].mean() == 1.5
    out = _extract_weights(src, tmp_path / 'out.pth')
    assert list(out) == list(weights)
    for key, value in weights.items():
        torch.testing.assert_close(out[key], value)


def test_foreign_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        checkpoint.read_foreign_checkpoint(str(tmp_path / 'nope.pth'))
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(
            checkpoint.UnreadableCheckpointError, match='truncated or'):
        checkpoint.read_foreign_checkpoint(str(bad))
    empty = tmp_path / 'empty.pth'
    torch.save({'state_dict': {'x': 1}}, empty)
    with pytest.raises(
            checkpoint.CheckpointLoadError, match='no state_dict of tensors'):
        checkpoint.foreign_tensors(
            checkpoint.read_foreign_checkpoint(str(empty)), str(empty))
    script = torch.jit.script(torch.nn.Linear(2, 2))
    jit = tmp_path / 'script.pt'
    script.save(str(jit))
    with pytest.raises(checkpoint.CheckpointLoadError, match='TorchScript'):
        checkpoint.read_foreign_checkpoint(str(jit))


class _OtherDict(dict):
    """A dict type of another code base (unknown to the reader)."""


def test_a_foreign_dict_type_keeps_its_tensors(tmp_path):
    src = tmp_path / 'other.pth'
    torch.save({'state_dict': _OtherDict(w=torch.ones(2), n=3)}, src)
    ckpt = checkpoint.read_foreign_checkpoint(str(src))
    assert isinstance(ckpt['state_dict'], checkpoint.ForeignObject)
    tensors, skipped = checkpoint.foreign_tensors(ckpt, str(src))
    assert list(tensors) == ['w'] and skipped == ['n']
