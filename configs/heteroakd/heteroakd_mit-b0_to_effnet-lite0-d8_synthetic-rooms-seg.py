# HeteroAKD: SegFormer (MiT-b0) teacher -> DeepLabV3 on an ImageNet
# EfficientNet-Lite0-d8 student, synthetic rooms (13 classes). Train the
# teacher first (python tools/train.py
# configs/heteroakd/segformer_mit-b0_synthetic-rooms-seg.py) or pass
# --cfg-options model.teacher_ckpt=PATH. The student checkpoint
# work_dir/student_only.pth loads into
# deeplabv3_effnet-lite0-d8_synthetic-rooms-seg.py. Adam at 1e-3, the
# schedule's (docs/en/benchmarks/heteroakd_benchmark.md, protocol v2).
_base_ = [
    './_base_/distill/heteroakd_mit-b0_to_effnet-lite0-d8.py',
    '../_base_/datasets/synthetic_rooms_seg.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
teacher_name = 'segformer_mit-b0_synthetic-rooms-seg'
model = dict(
    teacher_cfg='{{ fileDirname }}/' + teacher_name + '.py',
    teacher_ckpt='work_dirs/' + teacher_name + '/iter_1000.pth')
# validation also reports the teacher (teacher/mIoU)
val_cfg = dict(type='DistillValLoop')
