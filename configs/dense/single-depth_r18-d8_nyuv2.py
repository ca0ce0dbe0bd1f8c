# Single-task depth on NYUv2 (13 classes).
_base_ = ['./joint_r18-d8_nyuv2-4tasks.py']
tasks = ['depth']
model = dict(heads=dict(_delete_=True, depth={{_base_.model.heads.depth}}))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
