# HeteroAKD: UPerNet (ConvNeXt-atto) teacher -> DeepLabV3 (ResNet-18-d8)
# student on NYUv2-40 (semantic only). Train the teacher first (python
# tools/train.py configs/heteroakd/upernet_convnext-atto_nyuv2-40-seg.py) or
# pass --cfg-options model.teacher_ckpt=PATH. The student checkpoint
# work_dir/student_only.pth loads into deeplabv3_r18-d8_nyuv2-40-seg.py.
_base_ = [
    './_base_/distill/heteroakd_convnext-atto_to_r18-d8.py',
    './_base_/datasets/nyuv2_40_seg.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
teacher_name = 'upernet_convnext-atto_nyuv2-40-seg'
model = dict(
    student=dict(decode_head=dict(num_classes=40)),
    teacher_cfg='{{ fileDirname }}/' + teacher_name + '.py',
    teacher_ckpt='work_dirs/' + teacher_name + '/iter_1000.pth')
# validation also reports the teacher (teacher/mIoU)
val_cfg = dict(type='DistillValLoop')
