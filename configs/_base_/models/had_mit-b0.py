# HAD's multi-task model on a MiT-b0 encoder (SegFormer's Transformer; 4
# stages at strides 4/8/16/32 with 32/64/160/256 channels) with one
# SegFormer all-MLP head per task, reading all four stages. The channels are
# set once here (`segformer`); every head uses them. Random initialisation;
# set backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH) for
# ImageNet weights (docs/en/advanced_guides/own_backbone.md).
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 13
segformer = dict(
    type='SegformerHead',
    in_channels=[32, 64, 160, 256],
    in_index=[0, 1, 2, 3],
    channels=256,
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
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=32,
        num_stages=4,
        num_layers=[2, 2, 2, 2],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1),
    heads=dict(
        semantic=dict(
            segformer,
            num_classes=num_classes,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        depth=dict(type='DepthHead', body=segformer, max_depth=10.0),
        normal=dict(type='NormalHead', body=segformer),
        saliency=dict(type='SaliencyHead', body=segformer)))
