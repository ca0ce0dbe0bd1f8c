# tiny_heteroakd.py with a SyncBN student (as the GPU configs), validated
# and checkpointed at each of its 3 iterations (the rank-equality tests).
# Pass the teacher's checkpoint with --cfg-options model.teacher_ckpt=PATH.
_base_ = ['./tiny_heteroakd.py']
# _delete_: replaces the base's GroupNorm settings
norm_cfg = dict(_delete_=True, type='SyncBN', requires_grad=True)
model = dict(
    student=dict(
        backbone=dict(norm_cfg=norm_cfg), decode_head=dict(norm_cfg=norm_cfg)))
train_cfg = dict(max_iters=3, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1))
