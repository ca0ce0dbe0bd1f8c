# tiny_lifelong_syncbn.py on a tiny MiT encoder (SegFormer's Transformer,
# 8-dim embeddings) with SegFormer heads (SyncBN). data_root set by tests.
_base_ = ['./tiny_lifelong.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
segformer = dict(
    type='SegformerHead',
    in_channels=[8, 8, 16, 16],
    in_index=[0, 1, 2, 3],
    channels=8,
    dropout_ratio=0.1,
    norm_cfg=norm_cfg,
    align_corners=False)
model = dict(
    data_preprocessor=dict(size_divisor=32),
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
        drop_path_rate=0.1),
    heads=dict(
        _delete_=True,
        semantic=dict(segformer, num_classes=13),
        depth=dict(type='DepthHead', body=segformer),
        normal=dict(type='NormalHead', body=segformer)))
