# NYUv2 with 40 classes (toolkit seg40/ or the multi-task NYUD layout).
_base_ = ['./nyuv2_13.py']
num_classes = 40
train_dataloader = dict(dataset=dict(num_classes=num_classes))
val_dataloader = dict(dataset=dict(num_classes=num_classes))
test_dataloader = val_dataloader
