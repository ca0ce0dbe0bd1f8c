# SegFormer (MiT-b0) on NYUv2-40 (semantic only): a HeteroAKD teacher, and the
# student-alone baseline / plain student config of the distilled students.
_base_ = [
    './_base_/models/segformer_mit-b0.py',
    './_base_/datasets/nyuv2_40_seg.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
model = dict(decode_head=dict(num_classes=40))
