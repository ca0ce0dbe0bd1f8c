# The reference model as the GPU configs train it (the HAD authors'
# DeepLabV3-ResNet18): SyncBN, so that BN statistics are those of the global
# batch (on CPU ranks the launcher turns it back into BN, with one log line),
# and the ImageNet ResNet-18 (V1c) that mmseg's r18-d8 configs start from.
# mmengine fetches the weights on first use into torch's hub cache
# (~/.cache/torch/checkpoints/resnet18_v1c-b5776b93.pth). Offline, put
# that file anywhere and pass its path with
#   --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = ['./had_r18-d8.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
head_norm = dict(body=dict(norm_cfg=norm_cfg))
model = dict(
    backbone=dict(
        norm_cfg=norm_cfg,
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnet18_v1c')),
    heads=dict(
        semantic=dict(norm_cfg=norm_cfg),
        depth=head_norm,
        normal=head_norm,
        saliency=head_norm))
