# Semantic segmentation on synthetic rooms (96x128) with the HAD reference
# encoder-decoder: the README's first job until the lifelong loop lands.
_base_ = [
    '../_base_/models/aspp_r18-d8.py',
    '../_base_/datasets/synthetic_rooms_seg.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k.py'
]
