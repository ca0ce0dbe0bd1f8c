# HAD's multi-task model on a Swin-T encoder (shifted-window Transformer; 4
# stages at strides 4/8/16/32 with 96/192/384/768 channels) with one UPerNet
# head per task, as mmseg's UPerNet-Swin. The channels are set once here
# (`uper`); every head uses them. Random initialisation; set
# backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH) for ImageNet
# weights.
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
        type='SwinTransformer',
        pretrain_img_size=224,
        embed_dims=96,
        patch_size=4,
        window_size=7,
        mlp_ratio=4,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        strides=(4, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.3,
        patch_norm=True,
        act_cfg=dict(type='GELU'),
        norm_cfg=dict(type='LN', requires_grad=True)),
    heads=dict(
        semantic=dict(
            uper,
            num_classes=num_classes,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        depth=dict(type='DepthHead', body=uper, max_depth=10.0),
        normal=dict(type='NormalHead', body=uper),
        saliency=dict(type='SaliencyHead', body=uper)))
