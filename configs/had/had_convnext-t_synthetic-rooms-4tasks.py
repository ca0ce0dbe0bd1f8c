# HAD over four tasks on synthetic rooms, as
# had_r18-d8-c64_synthetic-rooms-4tasks.py, with
# mmpretrain's ConvNeXt-T encoder and UPerNet heads
# (configs/_base_/models/had_convnext-t.py): the backbone is swapped by config;
# the lifelong loop, data and schedule are those of the ResNet demo. Heads
# are narrowed to 64 channels for 96x128 images on a CPU, as the demo's.
_base_ = [
    '../_base_/models/had_convnext-t.py',
    '../_base_/datasets/synthetic_rooms.py', '../_base_/default_runtime.py',
    '../_base_/schedules/lifelong_synthetic-rooms-4x100.py'
]
small = dict(channels=64)
model = dict(
    heads=dict(
        semantic=small,
        depth=dict(body=small),
        normal=dict(body=small),
        saliency=dict(body=small)))
visualizer = dict(type='MultiTaskLocalVisualizer')
