# The HAD paper's NYUv2 setting: 13 classes, semantic -> depth -> normal, on
# the preprocessed NumPy layout (288x384, {train,val}/{image,label,depth,
# normal}/N.npy), no augmentation (the reference default).
_base_ = ['./had_r18-d8_nyuv2-4tasks.py']
tasks = ['semantic', 'depth', 'normal']
data_root = 'data/nyuv2_npy'
pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, layout='numpy', tasks=tasks, pipeline=pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, layout='numpy', tasks=tasks, pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
model = dict(heads=dict(saliency=None))
train_cfg = dict(phases=[dict(task=t, max_epochs=20) for t in tasks])
