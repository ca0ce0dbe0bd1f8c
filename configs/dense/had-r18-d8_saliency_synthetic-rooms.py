# Single-task saliency on all of synthetic rooms, joint schedule. The Delta_m
# references of a lifelong run are configs/had/synthetic_4tasks_single-*.py
# (the chunk and schedule the task gets in the sequence).
_base_ = ['./had-r18-d8_joint4_synthetic-rooms.py']
tasks = ['saliency']
model = dict(
    heads=dict(_delete_=True, saliency={{_base_.model.heads.saliency}}))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
