# A tiny, fast version of the HAD config for the tests: the stock
# EncoderDecoder with 8-channel ResNet-18 stages and a small FCN head,
# GroupNorm, no flips. data_root is set by the tests with --cfg-options.
_base_ = ['../../configs/had_r18-d8_synthetic-rooms-7-6.py']
norm_cfg = dict(type='GN', num_groups=4, requires_grad=True)
model = dict(
    segmentor=dict(
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
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, batch_size=4)
test_dataloader = val_dataloader
train_cfg = dict(phases=[
    dict(name='old', classes={{_base_.old_classes}}, max_iters=2),
    dict(name='new', classes={{_base_.new_classes}}, max_iters=2),
])
default_hooks = dict(logger=dict(interval=1))
