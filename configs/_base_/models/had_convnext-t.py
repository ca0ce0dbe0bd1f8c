# HAD's multi-task model on mmpretrain's ConvNeXt-T (a modern CNN; 4 stages
# at strides 4/8/16/32 with 96/192/384/768 channels) with one UPerNet head
# (PPM + FPN over the four stages) per task. The channels are set once here
# (`uper`); every head uses them. Random initialisation; set
# backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH,
# prefix='backbone.') for mmpretrain's ImageNet weights.
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 13
uper = dict(
    type='UPerHead',
    in_channels=[96, 192, 384, 768],
    in_index=[0, 1, 2, 3],
    pool_scales=(1, 2, 3, 6),
    channels=512,
    dropout_ratio=0.1,
    norm_cfg=norm_cfg,
    align_corners=False)
model = dict(
    type='HeterogeneousDensePredictor',
    data_preprocessor=dict(
        type='MultiTaskDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size_divisor=32),
    backbone=dict(
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=[0, 1, 2, 3],
        drop_path_rate=0.2,
        layer_scale_init_value=1.0,
        gap_before_final_norm=False),
    heads=dict(
        semantic=dict(
            uper,
            num_classes=num_classes,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        depth=dict(type='DepthHead', body=uper, max_depth=10.0),
        normal=dict(type='NormalHead', body=uper),
        saliency=dict(type='SaliencyHead', body=uper)))
