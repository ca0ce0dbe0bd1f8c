# Class-incremental semantic segmentation on synthetic rooms (13 classes)
# with HAD, on mmseg's stock EncoderDecoder (dilated ResNet-18 + ASPP) and
# stock BaseSegDataset, unchanged: phase 1 learns classes 0-6 ('old'),
# phase 2 learns classes 7-12 ('new') with the old labels set to ignore,
# while the frozen phase-1 model distils the old classes with
# HADLoss(task='semantic'). Run from the repo root with it on PYTHONPATH:
#   PYTHONPATH=. python tools/train.py \
#       projects/had_in_mmseg/configs/had_r18-d8_synthetic-rooms-7-6.py
_base_ = [
    '../../../configs/_base_/models/aspp_r18-d8.py',
    '../../../configs/_base_/datasets/synthetic_rooms_seg.py',
    '../../../configs/_base_/default_runtime.py',
    '../../../configs/_base_/schedules/lifelong_adam.py'
]
custom_imports = dict(
    imports=['projects.had_in_mmseg.had_in_mmseg'], allow_failed_imports=False)
# the stock segmentor config of the base, wrapped as it is
model = dict(
    _delete_=True, type='IncrementalSegDistiller', segmentor={{_base_.model}})
old_classes = [0, 1, 2, 3, 4, 5, 6]
new_classes = [7, 8, 9, 10, 11, 12]
train_cfg = dict(
    _delete_=True,
    type='ClassIncrementalTrainLoop',
    phases=[
        dict(name='old', classes=old_classes, max_iters=150),
        dict(name='new', classes=new_classes, max_iters=150),
    ],
    distill=dict(type='HADLoss', task='semantic'),
    distill_weight=3.0,
    split='all')
# mIoU_old / mIoU_new also in tools/test.py (the loop sets the same groups)
val_evaluator = dict(
    type='ClassGroupIoUMetric',
    iou_metrics=['mIoU'],
    class_groups=dict(old=old_classes, new=new_classes))
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # from scratch, small images
find_unused_parameters = False
default_hooks = dict(logger=dict(interval=25))
