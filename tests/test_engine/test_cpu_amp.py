"""--amp on a CPU: bf16 detection, the CPU autocast wrapper, channels_last.

The rest of the suite trains in fp32; these tests are the bf16 path's.
"""
import copy
import sys
import types

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from tiny_model import tiny_predictor_cfg
from tool_runner import REPO, run_tool

from had_mm.apis import launch
from had_mm.datasets.transforms import PackMultiTaskInputs
from had_mm.engine.loops.lifelong_train_loop import LifelongTrainLoop
from had_mm.registry import MODELS, OPTIM_WRAPPERS
from had_mm.utils import cpu_features
from had_mm.utils.cpu_features import cpu_bf16_flag

CPUINFO = ('processor\t: {i}\nvendor_id\t: GenuineIntel\n'
           'flags\t\t: fpu sse sse2 avx2 avx512f {extra}\n'
           'bugs\t\t: spectre_v1\n\n')


def _cpuinfo(tmp_path, extra):
    path = tmp_path / 'cpuinfo'
    path.write_text(''.join(CPUINFO.format(i=i, extra=extra) for i in (0, 1)))
    return str(path)


@pytest.mark.parametrize(
    'extra,flag', [('avx512_bf16 amx_tile amx_bf16 amx_int8', 'amx_bf16'),
                   ('avx512_vnni avx512_bf16', 'avx512_bf16'),
                   ('avx512_vnni', None), ('', None)])
def test_bf16_flag_read_from_cpuinfo(tmp_path, extra, flag):
    assert cpu_bf16_flag(_cpuinfo(tmp_path, extra)) == flag


def test_bf16_flag_only_from_the_flags_line(tmp_path):
    path = tmp_path / 'cpuinfo'
    path.write_text('model name\t: avx512_bf16 lookalike\nflags\t\t: sse\n')
    assert cpu_bf16_flag(str(path)) is None


def test_bf16_flag_without_cpuinfo_asks_torch(tmp_path, monkeypatch):
    missing = str(tmp_path / 'none')
    monkeypatch.setattr(
        torch.cpu,
        'get_capabilities',
        lambda: dict(avx512_bf16=True, amx_bf16=False),
        raising=False)
    assert cpu_bf16_flag(missing) == 'avx512_bf16'
    monkeypatch.setattr(
        torch.cpu, 'get_capabilities', lambda: {}, raising=False)
    assert cpu_bf16_flag(missing) is None


def test_no_bf16_without_onednn(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.backends.mkldnn, 'is_available', lambda: False)
    assert cpu_bf16_flag(_cpuinfo(tmp_path, 'amx_bf16')) is None


def _amp_cfg(**wrapper):
    return Config(
        dict(
            optim_wrapper=dict(wrapper, optimizer=dict(type='Adam', lr=1e-3))))


@pytest.mark.parametrize('wrapper', [
    dict(),
    dict(type='OptimWrapper'),
    dict(type='AmpOptimWrapper', loss_scale='dynamic', dtype='float16')
])
def test_amp_flag_on_a_bf16_cpu_picks_the_cpu_wrapper(monkeypatch, wrapper):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(launch, 'cpu_bf16_flag', lambda: 'avx512_bf16')
    cfg = _amp_cfg(**wrapper)
    launch._enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    assert 'dtype' not in cfg.optim_wrapper


def test_amp_flag_on_a_cpu_without_bf16_trains_in_fp32(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(launch, 'cpu_bf16_flag', lambda: None)
    for wrapper in (dict(), dict(type='AmpOptimWrapper', loss_scale=512.0)):
        cfg = _amp_cfg(**wrapper)
        launch._enable_amp(cfg)
        assert cfg.optim_wrapper.get('type', 'OptimWrapper') == \
            'OptimWrapper'
        assert 'loss_scale' not in cfg.optim_wrapper


def test_amp_flag_refuses_another_wrapper_on_a_bf16_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(launch, 'cpu_bf16_flag', lambda: 'amx_bf16')
    with pytest.raises(ValueError, match='OptimWrapper'):
        launch._enable_amp(_amp_cfg(type='ApexOptimWrapper'))


def _fake_gpu(monkeypatch, bf16):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: bf16)
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda: 'FakeGPU')


@pytest.mark.parametrize('bf16,mode,dtype', [(True, 'auto', 'bfloat16'),
                                             (False, 'auto', 'float16'),
                                             (True, 'bf16', 'bfloat16'),
                                             (True, 'fp16', 'float16'),
                                             (False, 'fp16', 'float16')])
def test_amp_modes_on_a_gpu(monkeypatch, bf16, mode, dtype):
    """--amp picks bf16 where the GPU has it; fp16 keeps a dynamic loss
    scale (a GPU is faked: mmengine's wrapper is not built here)."""
    _fake_gpu(monkeypatch, bf16)
    cfg = _amp_cfg()
    launch._enable_amp(cfg, mode)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == dtype
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_amp_bf16_is_refused_on_a_gpu_without_it(monkeypatch):
    _fake_gpu(monkeypatch, False)
    with pytest.raises(ValueError, match='FakeGPU has no bfloat16'):
        launch._enable_amp(_amp_cfg(), 'bf16')


def test_amp_mode_values(monkeypatch):
    assert launch.amp_mode(None) is None and launch.amp_mode(False) is None
    assert launch.amp_mode(True) == 'auto'
    assert launch.amp_mode('fp16') == 'fp16'
    with pytest.raises(ValueError, match='auto, bf16, fp16'):
        launch.amp_mode('fp8')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match='--amp fp16 needs a GPU'):
        launch._enable_amp(_amp_cfg(), 'fp16')
    monkeypatch.setattr(launch, 'cpu_bf16_flag', lambda: None)
    with pytest.raises(ValueError, match='no bfloat16 instructions'):
        launch._enable_amp(_amp_cfg(), 'bf16')


def test_tf32_is_allowed_unless_the_config_opts_out():
    before = (torch.backends.cuda.matmul.allow_tf32,
              torch.backends.cudnn.allow_tf32)
    try:
        launch._allow_tf32(Config(dict(env_cfg=dict())))
        assert torch.backends.cuda.matmul.allow_tf32
        assert torch.backends.cudnn.allow_tf32
        launch._allow_tf32(Config(dict(env_cfg=dict(allow_tf32=False))))
        assert not torch.backends.cuda.matmul.allow_tf32
        assert not torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before[0]
        torch.backends.cudnn.allow_tf32 = before[1]


def test_channels_last_comes_before_the_ddp_wrap(monkeypatch):
    """DDP's gradient buckets take the strides of the parameters when it is
    built, so the runner converts the model before wrapping it."""
    from mmengine.runner import Runner

    from had_mm.engine.runners import had_runner
    seen = {}

    def wrap(self, wrapper_cfg, model):
        seen['format'] = model.conv.weight.is_contiguous(
            memory_format=torch.channels_last)
        return model

    monkeypatch.setattr(Runner, 'wrap_model', wrap)
    monkeypatch.setattr(had_runner, 'channels_last_refusal', lambda d: None)
    runner = had_runner.HADRunner.__new__(had_runner.HADRunner)
    runner._distributed = False
    runner.cfg = Config(dict(train_cfg=dict(channels_last=True)))
    model = nn.Sequential()
    model.conv = nn.Conv2d(3, 4, 3)
    runner.wrap_model(None, model)
    assert seen['format'] is True
    runner.cfg = Config(dict(train_cfg=dict(channels_last=False)))
    model.conv = nn.Conv2d(3, 4, 3)
    runner.wrap_model(None, model)
    assert seen['format'] is False


def _batch(n=2, h=24, w=32, tasks=('normal', )):
    rng = np.random.default_rng(0)
    items = []
    for _ in range(n):
        normal = rng.normal(size=(h, w, 3)).astype(np.float32)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        labels = dict(
            gt_seg_map=rng.integers(0, 13, (h, w)).astype(np.uint8),
            gt_normal=normal)
        res = dict(
            img=rng.integers(0, 255, (h, w, 3), dtype=np.uint8),
            img_shape=(h, w),
            ori_shape=(h, w))
        res.update({
            k: v
            for k, v in labels.items()
            if (k == 'gt_normal') == (tasks == ('normal', ))
        })
        items.append(PackMultiTaskInputs().transform(res))
    return dict(
        inputs=[i['inputs'] for i in items],
        data_samples=[i['data_samples'] for i in items])


def _model_and_wrapper(wrapper_type):
    init_default_scope('had_mm')
    torch.manual_seed(0)
    model = MODELS.build(tiny_predictor_cfg(('semantic', 'normal')))
    optim = OPTIM_WRAPPERS.build(
        dict(
            type=wrapper_type,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.01)))
    return model, optim


def _traced_step(model, optim, batch):
    """One ``train_step``; the dtypes of every conv output and every loss,
    and the log vars."""
    conv_dtypes, loss_dtypes = set(), {}
    hooks = [
        m.register_forward_hook(
            lambda mod, args, out: conv_dtypes.add(out.dtype))
        for m in model.modules() if isinstance(m, nn.Conv2d)
    ]
    parse = model.parse_losses

    def parse_losses(losses):
        loss_dtypes.update({k: v.dtype for k, v in losses.items()})
        return parse(losses)

    model.parse_losses = parse_losses
    try:
        log_vars = model.train_step(batch, optim)
    finally:
        for hook in hooks:
            hook.remove()
        del model.parse_losses
    return conv_dtypes, loss_dtypes, log_vars


def test_train_step_under_the_cpu_wrapper_runs_in_bf16_with_fp32_losses():
    # phase 2 of a lifelong run: normal is new, semantic is distilled
    model, optim = _model_and_wrapper('CPUAmpOptimWrapper')
    teacher = copy.deepcopy(model)
    model.attach_teacher(
        teacher,
        losses=dict(
            semantic=MODELS.build(dict(type='HADLoss', task='semantic'))),
        weight=3.0)
    weight = model.backbone.stem[0].weight
    before = weight.detach().clone()
    grad_dtypes = []
    weight.register_hook(lambda grad: grad_dtypes.append(grad.dtype))
    conv, losses, log_vars = _traced_step(model, optim, _batch())
    assert conv == {torch.bfloat16}
    assert set(losses) == {'normal.loss_normal', 'semantic.loss_distill'}
    assert set(losses.values()) == {torch.float32}
    assert all(np.isfinite(float(v)) for v in log_vars.values())
    # the weights and their gradients stay float32 and are updated
    assert weight.dtype == torch.float32
    assert grad_dtypes == [torch.float32]
    assert not torch.equal(weight.detach(), before)
    # outside the step: fp32 again (evaluation is not autocast)
    with torch.no_grad():
        out = model.backbone(torch.zeros(1, 3, 16, 16))[-1]
    assert out.dtype == torch.float32


def test_bf16_step_is_close_to_the_fp32_step():
    batch = _batch(tasks=('semantic', ))
    results = []
    for wrapper in ('OptimWrapper', 'CPUAmpOptimWrapper'):
        model, optim = _model_and_wrapper(wrapper)
        _, _, log_vars = _traced_step(model, optim, batch)
        results.append(float(log_vars['loss']))
    # bfloat16 keeps 8 mantissa bits: about 2 significant digits
    assert results[1] == pytest.approx(results[0], rel=0.03)


def test_a_gpu_amp_checkpoint_resumes_in_the_cpu_wrapper():
    model, optim = _model_and_wrapper('CPUAmpOptimWrapper')
    state = optim.state_dict()
    state['loss_scaler'] = dict(scale=65536.0)
    optim.load_state_dict(state)
    assert 'loss_scaler' not in optim.state_dict()


def test_channels_last_is_skipped_on_cpu():
    """oneDNN's NHWC backward corrupts the heap on some CPUs (torch
    2.14): the loop keeps the CPU model contiguous and warns once."""
    init_default_scope('had_mm')
    model = MODELS.build(tiny_predictor_cfg(('semantic', 'normal')))
    teacher = copy.deepcopy(model)
    model.attach_teacher(
        teacher,
        losses=dict(
            semantic=MODELS.build(dict(type='HADLoss', task='semantic'))))
    loop = types.SimpleNamespace(
        model=model, channels_last=True, pseudo_label_cache=False)
    LifelongTrainLoop._prepare_phase(loop, 1)
    assert loop._channels_last_warned
    LifelongTrainLoop._prepare_phase(loop, 2)
    for net in (model, teacher):
        assert not net.channels_last
        weight = net.backbone.stem[0].weight
        assert weight.is_contiguous()
        assert not weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_is_refused_on_cpu_only():
    refusal = cpu_features.channels_last_refusal(torch.device('cpu'))
    assert refusal.startswith('channels_last skipped on the CPU')
    assert cpu_features.channels_last_refusal(torch.device('cuda')) is None


TINY = f'{REPO}/tests/data/configs/tiny_lifelong.py'


def test_tools_train_amp_and_channels_last_on_cpu(synthetic_rooms_root,
                                                  tmp_path):
    """A 3-phase run with --amp and channels_last: bf16 where the CPU has
    it (else the one-line skip), channels_last skipped with one line (the
    CPU), contiguous weights, finite losses."""
    if torch.cuda.is_available():
        pytest.skip('the CPU path')
    root = synthetic_rooms_root
    proc = run_tool([
        sys.executable, 'tools/train.py', TINY, '--work-dir',
        str(tmp_path), '--amp', '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_cfg.channels_last=True'
    ])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    if cpu_features.cpu_bf16_flag():
        assert '--amp: bfloat16 autocast on the CPU' in out
    else:
        assert out.count('--amp skipped: mixed precision needs a GPU') == 1
    assert out.count('channels_last skipped on the CPU') == 1
    assert 'Traceback' not in out
    assert 'nan' not in [
        w.strip(',').lower() for ln in out.splitlines() if 'Iter(train)' in ln
        for w in ln.split()
    ]
    ckpt = torch.load(tmp_path / 'phase_3_normal.pth', map_location='cpu')
    weight = ckpt['state_dict']['backbone.stem.0.weight']
    assert weight.is_contiguous()
    assert not weight.is_contiguous(memory_format=torch.channels_last)


def test_make_demo_asks_the_cpu_for_bf16():
    proc = run_tool([sys.executable, '-m', 'had_mm.utils.cpu_features'])
    assert proc.returncode == 0, proc.stderr
    expected = '' if torch.cuda.is_available() else (cpu_bf16_flag() or '')
    assert proc.stdout.strip() == expected
    makefile = open(f'{REPO}/Makefile').read()
    demo = makefile[makefile.index('\ndemo:'):]
    assert '-m had_mm.utils.cpu_features' in demo
    assert '$(DEMO_AMP)' in demo and '--amp' in demo
