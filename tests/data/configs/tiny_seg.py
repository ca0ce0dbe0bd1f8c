# A tiny, deterministic semantic-segmentation run for the tool tests:
# GroupNorm (batch-size independent, so 2 ranks x 2 images == 1 x 4), no
# dropout and no random flips (so a resumed run can equal an uninterrupted
# one). data_root is set by the tests with --cfg-options.
_base_ = [
    '../../../configs/_base_/models/aspp_r18-d8.py',
    '../../../configs/_base_/datasets/synthetic_rooms_seg.py',
    '../../../configs/_base_/default_runtime.py',
    '../../../configs/_base_/schedules/schedule_1k.py'
]
norm_cfg = dict(type='GN', num_groups=4, requires_grad=True)
model = dict(
    backbone=dict(stem_channels=8, base_channels=8, norm_cfg=norm_cfg),
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=64,
        channels=16,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=13,
        norm_cfg=norm_cfg,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True, seed=0),
    dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, batch_size=4)
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = []
train_cfg = dict(max_iters=6, val_interval=1000)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=3, max_keep_ckpts=5, save_last=True))
randomness = dict(seed=0, deterministic=False)
