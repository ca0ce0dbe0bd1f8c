# tiny_lifelong_syncbn.py taught by a heterogeneous teacher: the tiny MiT of
# tiny_heteroakd_teacher.py through fitted adapters (BN). Pass the teacher's
# checkpoint with --cfg-options train_cfg.teacher.teacher_ckpt=PATH.
_base_ = ['./tiny_lifelong_syncbn.py']
train_cfg = dict(
    teacher=dict(
        type='HeteroLifelongTeacher',
        teacher_cfg='{{ fileDirname }}/tiny_heteroakd_teacher.py',
        teacher_ckpt=None,
        recorders=dict(
            stages=dict(type='ModuleOutputsRecorder', source='backbone')),
        stages=[dict(recorder='stages', data_idx=3)],
        channels=8,
        fit_iters=2))
