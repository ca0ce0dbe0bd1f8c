# HeteroAKD model part: SegFormer (MiT-b0) teacher -> DeepLabV3 on an
# ImageNet EfficientNet-Lite0-d8 student (a Transformer teacher, an ImageNet
# CNN student). Adapters project the last two backbone stages of each side
# (student: layer6 and layer7, 192 and 320 channels at stride 8; teacher:
# backbone outputs 2 and 3) into class logits at the student's decode
# resolution, as heteroakd_mit-b0_to_r18-d8.py. Top-level configs add the
# data, teacher_cfg and teacher_ckpt.
_base_ = ['../../../_base_/models/aspp_effnet-lite0-d8.py']
model = dict(
    _delete_=True,
    type='HeteroAKDDistiller',
    student=_base_.model,
    teacher_cfg=None,
    teacher_ckpt=None,
    student_recorders=dict(
        stage6=dict(type='ModuleOutputsRecorder', source='backbone.layer6'),
        stage7=dict(type='ModuleOutputsRecorder', source='backbone.layer7'),
        logits=dict(
            type='ModuleOutputsRecorder', source='decode_head.conv_seg')),
    teacher_recorders=dict(
        stages=dict(type='ModuleOutputsRecorder', source='backbone'),
        logits=dict(
            type='ModuleOutputsRecorder', source='decode_head.conv_seg')),
    student_adapter=dict(
        type='TeacherAdapter',
        stages=[dict(recorder='stage6'),
                dict(recorder='stage7')]),
    teacher_adapter=dict(
        type='TeacherAdapter',
        stages=[
            dict(recorder='stages', data_idx=2),
            dict(recorder='stages', data_idx=3)
        ]),
    distill_losses=dict(
        loss_heteroakd=dict(
            type='HeteroAKDLoss', tau=4.0, temp_w=1.0, loss_weight=1.0),
        loss_kd=dict(type='LogitKDLoss', tau=1.0, loss_weight=0.1)),
    loss_forward_mappings=dict(
        loss_heteroakd=dict(
            student_logits=dict(from_student=True, adapter=True),
            teacher_logits=dict(from_student=False, adapter=True),
            gt=dict(gt=True)),
        loss_kd=dict(
            student_logits=dict(from_student=True, recorder='logits'),
            teacher_logits=dict(from_student=False, recorder='logits'))),
    seg_loss_weight=1.0,
    proj_loss_weight=1.0)
# the student alone, without the teacher's projectors, at the end
custom_hooks = [dict(type='StudentCheckpointHook')]
