# Joint 4-task training on synthetic rooms (the multi-task upper bound), as
# joint_r18-d8-c64_synthetic-rooms-4tasks.py, on an ImageNet
# EfficientNet-Lite0-d8 encoder; Adam at 1e-3 for every parameter, as the
# lifelong effnet configs.
_base_ = [
    '../_base_/models/had_effnet-lite0-d8-c64.py',
    '../_base_/datasets/synthetic_rooms.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py'
]
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0, power=0.9, begin=0, end=400, by_epoch=False)
]
train_cfg = dict(max_iters=400, val_interval=400)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=400))
visualizer = dict(type='MultiTaskLocalVisualizer')
