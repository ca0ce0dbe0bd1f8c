# A 2-task, seconds-long version of the tiny KDP config for the tests:
# 4 procedural classes (2 tasks x 2), 8 train / 4 test images per class,
# smaller random-init ViTs (no pretrained checkpoints), 2 iterations per
# stage.
_base_ = ['../../configs/coda-kdp_tiny-vit_procedural.py']
vit_s = dict(
    type='PromptedViT',
    arch=dict(
        embed_dims=32, num_layers=5, num_heads=2, feedforward_channels=64),
    img_size=32,
    patch_size=8)
vit_b = dict(
    type='PromptedViT',
    arch=dict(
        embed_dims=48, num_layers=5, num_heads=2, feedforward_channels=96),
    img_size=32,
    patch_size=8)
model = dict(
    teacher=dict(
        backbone=vit_b,
        backbone_checkpoint=None,
        query=vit_s,
        query_checkpoint=None,
        num_classes=4,
        num_tasks=2),
    student=dict(
        backbone=vit_s, backbone_checkpoint=None, num_classes=4, num_tasks=2))
train_dataloader = dict(
    batch_size=8, dataset=dict(num_classes=4, num_per_class=8, num_tasks=2))
val_dataloader = dict(
    batch_size=16, dataset=dict(num_classes=4, num_per_class=4, num_tasks=2))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='ContinualDistillLoop', max_iters=2)
default_hooks = dict(logger=dict(interval=1))
