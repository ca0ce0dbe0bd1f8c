# A tiny HeteroAKD run for the tool tests: the MiT teacher of
# tiny_heteroakd_teacher.py distilled into the ResNet student of tiny_seg.py.
# Pass the teacher's checkpoint with --cfg-options model.teacher_ckpt=PATH.
_base_ = ['./tiny_seg.py']
model = dict(
    _delete_=True,
    type='HeteroAKDDistiller',
    student=_base_.model,
    teacher_cfg='{{ fileDirname }}/tiny_heteroakd_teacher.py',
    teacher_ckpt=None,
    student_recorders=dict(
        stage3=dict(type='ModuleOutputsRecorder', source='backbone.layer3'),
        stage4=dict(type='ModuleOutputsRecorder', source='backbone.layer4'),
        logits=dict(
            type='ModuleOutputsRecorder', source='decode_head.conv_seg')),
    teacher_recorders=dict(
        stages=dict(type='ModuleOutputsRecorder', source='backbone'),
        logits=dict(
            type='ModuleOutputsRecorder', source='decode_head.conv_seg')),
    student_adapter=dict(
        type='TeacherAdapter',
        channels=8,
        stages=[dict(recorder='stage3'),
                dict(recorder='stage4')]),
    teacher_adapter=dict(
        type='TeacherAdapter',
        channels=8,
        stages=[
            dict(recorder='stages', data_idx=2),
            dict(recorder='stages', data_idx=3)
        ]),
    distill_losses=dict(
        loss_heteroakd=dict(type='HeteroAKDLoss', tau=4.0, loss_weight=1.0),
        loss_kd=dict(type='LogitKDLoss', tau=1.0, loss_weight=0.1)),
    loss_forward_mappings=dict(
        loss_heteroakd=dict(
            student_logits=dict(from_student=True, adapter=True),
            teacher_logits=dict(from_student=False, adapter=True),
            gt=dict(gt=True)),
        loss_kd=dict(
            student_logits=dict(from_student=True, recorder='logits'),
            teacher_logits=dict(from_student=False, recorder='logits'))))
train_cfg = dict(max_iters=2, val_interval=2)
val_cfg = dict(type='DistillValLoop')
custom_hooks = [dict(type='StudentCheckpointHook')]
default_hooks = dict(checkpoint=dict(interval=2))
