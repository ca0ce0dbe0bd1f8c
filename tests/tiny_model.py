"""A tiny multi-task model config shared by the model tests."""
import copy

GN = dict(type='GN', num_groups=2, requires_grad=True)
BODY = dict(
    type='FCNHead',
    in_channels=32,
    in_index=0,
    channels=8,
    num_convs=1,
    concat_input=False,
    dropout_ratio=0.0,
    norm_cfg=GN)


def tiny_predictor_cfg(tasks=('semantic', 'depth', 'normal', 'saliency')):
    heads = dict(
        semantic=dict(BODY, num_classes=13),
        depth=dict(type='DepthHead', body=BODY),
        normal=dict(type='NormalHead', body=BODY),
        saliency=dict(type='SaliencyHead', body=BODY))
    return dict(
        type='HeterogeneousDensePredictor',
        data_preprocessor=dict(
            type='MultiTaskDataPreProcessor',
            mean=[0, 0, 0],
            std=[255, 255, 255],
            size_divisor=8),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=4,
            out_indices=(3, ),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=GN),
        heads={t: copy.deepcopy(heads[t])
               for t in tasks})
