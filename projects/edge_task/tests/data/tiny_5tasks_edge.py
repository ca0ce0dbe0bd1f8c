# The project's 5-task config made tiny for its end-to-end test: a narrow
# ResNet, one-conv FCN heads, one iteration a phase (data_root set by the
# test).
_base_ = ['../../configs/had-r18-d8_synthetic-rooms_5tasks_edge.py']
norm_cfg = dict(type='GN', num_groups=2, requires_grad=True)
body = dict(
    type='FCNHead',
    in_channels=32,
    in_index=0,
    channels=8,
    num_convs=1,
    concat_input=False,
    dropout_ratio=0.0,
    norm_cfg=norm_cfg)
model = dict(
    backbone=dict(stem_channels=8, base_channels=4, norm_cfg=norm_cfg),
    heads=dict(
        _delete_=True,
        semantic=dict(body, num_classes=13),
        depth=dict(type='DepthHead', body=body),
        normal=dict(type='NormalHead', body=body),
        saliency=dict(type='SaliencyHead', body=body),
        edge=dict(type='EdgeHead', body=body)))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
train_cfg = dict(
    phases=[
        dict(task=t, max_iters=1)
        for t in ['semantic', 'depth', 'normal', 'saliency', 'edge']
    ],
    progress_bar=False)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=100))
