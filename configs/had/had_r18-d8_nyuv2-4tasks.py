# HAD on NYUv2 (toolkit layout, 13 classes, 288x384): semantic -> depth ->
# normal -> saliency with the reference encoder/heads/optimiser, 20 epochs
# per phase. Launch with
# `tools/dist_train.sh configs/had/had_r18-d8_nyuv2-4tasks.py 8`:
# 8 GPUs x 8 images = the reference batch of 64. Saliency is derived from the
# semantic labels unless you have saliency maps
# (tools/data/derive_saliency.py). For ImageNet weights set
# model.backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH).
_base_ = [
    '../_base_/models/had_r18-d8.py', '../_base_/datasets/nyuv2_13.py',
    '../_base_/default_runtime.py', '../_base_/schedules/lifelong_adam.py'
]
tasks = ['semantic', 'depth', 'normal', 'saliency']
train_dataloader = dict(batch_size=8, num_workers=4)
train_cfg = dict(phases=[dict(task=t, max_epochs=20) for t in tasks])
visualizer = dict(type='MultiTaskLocalVisualizer')
