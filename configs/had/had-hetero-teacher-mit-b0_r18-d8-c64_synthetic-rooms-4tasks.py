# HAD with a heterogeneous teacher: the old tasks' pseudo-labels come from a
# frozen SegFormer (MiT-b0, a Transformer) through teacher adapters instead
# of from the previous phase's ResNet-18 model. The adapter of each task is
# fitted on its phase's data at the end of that phase (no old data is kept).
# Train the teacher first (python tools/train.py
# configs/heteroakd/segformer_mit-b0_synthetic-rooms-seg.py) or pass
# --cfg-options train_cfg.teacher.teacher_ckpt=PATH.
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
teacher_name = 'segformer_mit-b0_synthetic-rooms-seg'
train_cfg = dict(
    teacher=dict(
        type='HeteroLifelongTeacher',
        teacher_cfg='{{ fileDirname }}/../heteroakd/' + teacher_name + '.py',
        teacher_ckpt='work_dirs/' + teacher_name + '/iter_1000.pth',
        # MiT-b0 stages 2-4 (strides 8, 16, 32; 64, 160, 256 channels)
        recorders=dict(
            stages=dict(type='ModuleOutputsRecorder', source='backbone')),
        stages=[
            dict(recorder='stages', data_idx=1),
            dict(recorder='stages', data_idx=2),
            dict(recorder='stages', data_idx=3)
        ],
        channels=64))
