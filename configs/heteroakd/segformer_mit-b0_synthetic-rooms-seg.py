# SegFormer (MiT-b0) on synthetic rooms (13 classes): a HeteroAKD teacher, and
# the student-alone baseline / plain student config of the distilled students.
_base_ = [
    './_base_/models/segformer_mit-b0.py',
    '../_base_/datasets/synthetic_rooms_seg.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
