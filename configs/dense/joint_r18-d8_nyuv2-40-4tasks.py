# Joint 4-task training on NYUv2 with 40 classes (toolkit seg40/).
_base_ = ['./joint_r18-d8_nyuv2-4tasks.py']
model = dict(heads=dict(semantic=dict(num_classes=40)))
train_dataloader = dict(dataset=dict(num_classes=40))
val_dataloader = dict(dataset=dict(num_classes=40))
test_dataloader = val_dataloader
