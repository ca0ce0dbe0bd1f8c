# HAD over five task types on synthetic rooms (96x128): semantic -> depth ->
# normal -> saliency -> edge, the fifth registered by this project (no
# had_mm edit). Run from the repo root:
#   PYTHONPATH=. python tools/train.py \
#       projects/edge_task/configs/had-r18-d8_synthetic-rooms_5tasks_edge.py
_base_ = ['../../../configs/had/synthetic_4tasks.py']
custom_imports = dict(
    imports=['projects.edge_task.edge_task'], allow_failed_imports=False)
tasks = ['semantic', 'depth', 'normal', 'saliency', 'edge']
model = dict(
    heads=dict(
        edge=dict(type='EdgeHead', body={{_base_.model.heads.saliency.body}})))
# the loop narrows the train set to each phase's task; the validation set
# carries every task's labels (edges derived from the semantic maps)
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
train_cfg = dict(phases=[
    dict(task='semantic', max_iters=100),
    dict(task='depth', max_iters=100),
    dict(task='normal', max_iters=100),
    dict(task='saliency', max_iters=100),
    dict(task='edge', max_iters=100),
])
