# A tiny SegFormer-style teacher (MiT, 8-dim embeddings) for the distillation
# tests: same data and runtime as tiny_seg.py, a Transformer backbone.
_base_ = ['./tiny_seg.py']
norm_cfg = dict(type='GN', num_groups=4, requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=8,
        num_stages=4,
        num_layers=[1, 1, 1, 1],
        num_heads=[1, 1, 2, 2],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=2,
        drop_path_rate=0.0),
    decode_head=dict(
        _delete_=True,
        type='SegformerHead',
        in_channels=[8, 8, 16, 16],
        in_index=[0, 1, 2, 3],
        channels=16,
        dropout_ratio=0.0,
        num_classes=13,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)))
