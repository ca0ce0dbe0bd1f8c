"""Recorders: module outputs by forward hook, method outputs, errors."""
import pytest
import torch
from distill_helpers import build

from had_mm.models.distill import (MethodOutputsRecorder,
                                   ModuleOutputsRecorder, RecorderManager)


def test_module_outputs_recorder_captures_only_while_recording(student_cfg):
    model = build(student_cfg).eval()
    manager = RecorderManager(
        dict(
            layer3=dict(
                type='ModuleOutputsRecorder', source='backbone.layer3'),
            stages=dict(type='ModuleOutputs', source='backbone')))
    manager.initialize(model, 'student')
    x = torch.randn(1, 3, 32, 40)
    model._forward(x)  # not recording: nothing kept
    assert manager.get_recorder('layer3').data_buffer == []
    with torch.no_grad(), manager.recording():
        logits = model._forward(x)
        # the same computation by hand
        stem = model.backbone.maxpool(model.backbone.stem(x))
        expected = model.backbone.layer3(
            model.backbone.layer2(model.backbone.layer1(stem)))
    assert logits.shape[1] == 13
    torch.testing.assert_close(manager.get_record_data('layer3'), expected)
    # the backbone returns a tuple: data_idx picks an element
    stages = manager.get_record_data('stages')
    assert isinstance(stages, (tuple, list))
    assert manager.get_record_data('stages', data_idx=0) is stages[0]
    with pytest.raises(ValueError, match='out of range'):
        manager.get_record_data('stages', data_idx=5)
    manager.reset_data()
    with pytest.raises(RuntimeError, match='not called'):
        manager.get_record_data('layer3')
    manager.remove()
    with manager.recording():
        model._forward(x)
    assert manager.get_recorder('layer3').data_buffer == []


def test_method_outputs_recorder_wraps_one_instance(student_cfg):
    model = build(student_cfg).eval()
    other = build(student_cfg).eval()  # same class, not recorded
    recorder = MethodOutputsRecorder('decode_head.forward')
    recorder.initialize(model)
    x = torch.randn(1, 3, 32, 40)
    with torch.no_grad():
        recorder.recording = True
        logits = model._forward(x)
        other._forward(x)
        recorder.recording = False
    assert len(recorder.data_buffer) == 1
    torch.testing.assert_close(recorder.get_record_data(), logits)
    assert 'forward' not in other.decode_head.__dict__
    recorder.remove()
    assert 'forward' not in model.decode_head.__dict__


def test_missing_module_lists_nearest_names(student_cfg):
    model = build(student_cfg)
    with pytest.raises(ValueError) as err:
        ModuleOutputsRecorder('backbone.layr3').initialize(model, 'student')
    msg = str(err.value)
    assert 'backbone.layr3' in msg and 'student' in msg
    assert 'backbone.layer3' in msg
    with pytest.raises(ValueError, match='backbone.layer4'):
        RecorderManager(
            dict(x=dict(type='ModuleOutputs',
                        source='backbone.layer5'))).initialize(model)


def test_missing_method_lists_nearest(student_cfg):
    model = build(student_cfg)
    with pytest.raises(ValueError, match='cls_seg'):
        MethodOutputsRecorder('decode_head.cls_sge').initialize(model)
    with pytest.raises(ValueError, match='decode_head'):
        MethodOutputsRecorder('decode_haed.forward').initialize(model)


def test_unknown_recorder_name():
    manager = RecorderManager(dict(a=dict(type='ModuleOutputs', source='x')))
    with pytest.raises(ValueError, match='no recorder named "b".*a'):
        manager.get_record_data('b')
