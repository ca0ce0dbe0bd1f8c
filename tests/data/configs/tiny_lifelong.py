# A tiny 3-phase lifelong run for the loop tests (data_root set by tests).
_base_ = [
    '../../../configs/_base_/models/had_r18-d8.py',
    '../../../configs/_base_/datasets/synthetic_rooms.py',
    '../../../configs/_base_/default_runtime.py',
    '../../../configs/_base_/schedules/lifelong_adam.py'
]
norm_cfg = dict(type='GN', num_groups=2, requires_grad=True)
body = dict(
    type='FCNHead',
    in_channels=32,
    in_index=0,
    channels=8,
    num_convs=1,
    concat_input=False,
    dropout_ratio=0.1,  # dropout exercises the resume determinism
    norm_cfg=norm_cfg)
model = dict(
    data_preprocessor=dict(size_divisor=8),
    backbone=dict(stem_channels=8, base_channels=4, norm_cfg=norm_cfg),
    heads=dict(
        _delete_=True,
        semantic=dict(body, num_classes=13),
        depth=dict(type='DepthHead', body=body),
        normal=dict(type='NormalHead', body=body)))
tasks = ['semantic', 'depth', 'normal']
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(tasks=tasks))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(
    phases=[
        dict(task='semantic', max_iters=3),
        dict(task='depth', max_iters=3),
        dict(task='normal', max_iters=3),
    ],
    progress_bar=False)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=2, max_keep_ckpts=10))
