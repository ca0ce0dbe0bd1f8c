# Joint 4-task training on synthetic rooms: the multi-task upper bound of
# the lifelong sequence, and the check that the model learns every task.
# Trains on a CPU in about 6 minutes (400 iterations, batch 8, 96x128).
_base_ = [
    '../_base_/models/had_r18-d8-c64.py',
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
