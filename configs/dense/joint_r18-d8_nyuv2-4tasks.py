# Joint 4-task training on NYUv2 (13 classes): the multi-task upper bound.
_base_ = [
    '../_base_/models/had_r18-d8_syncbn-in1k.py',
    '../_base_/datasets/nyuv2_13.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py'
]
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = []
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
visualizer = dict(type='MultiTaskLocalVisualizer')
# every input is 288x384: cuDNN picks its fastest kernels once
env_cfg = dict(cudnn_benchmark=True)
