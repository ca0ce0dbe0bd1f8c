# The HAD reference multi-task model: a shared dilated ResNet-18 (output
# stride 8) and one DeepLab ASPP head per task (rates 12/24/36, 256
# channels, dropout 0.5). Swap the backbone by config (MiT, Swin,
# mmpretrain.ConvNeXt, ...) and set the heads' in_channels to match.
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 13
aspp = dict(
    type='ASPPHead',
    in_channels=512,
    in_index=0,
    channels=256,
    dilations=(1, 12, 24, 36),
    dropout_ratio=0.5,
    norm_cfg=norm_cfg,
    align_corners=False)
model = dict(
    type='HeterogeneousDensePredictor',
    data_preprocessor=dict(
        type='MultiTaskDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size_divisor=8),
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    heads=dict(
        semantic=dict(
            aspp,
            num_classes=num_classes,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        depth=dict(type='DepthHead', body=aspp, max_depth=10.0),
        normal=dict(type='NormalHead', body=aspp),
        saliency=dict(type='SaliencyHead', body=aspp)))
