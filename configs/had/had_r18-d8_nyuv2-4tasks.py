# HAD on NYUv2 (toolkit layout, 13 classes, 288x384): semantic -> depth ->
# normal -> saliency with the reference encoder/heads/optimiser, 20 epochs
# per phase. Launch with
# `tools/dist_train.sh configs/had/nyuv2_4tasks.py 8` (the same config under
# its short name): 8 GPUs x 8 images = the reference batch of 64, SyncBN and
# the ImageNet ResNet-18 (../_base_/models/had_r18-d8_syncbn-in1k.py). With
# N GPUs keep the global batch: batch_size=64 // N per GPU. Saliency is
# derived from the semantic labels unless you have saliency maps
# (tools/data/derive_saliency.py).
_base_ = [
    '../_base_/models/had_r18-d8_syncbn-in1k.py',
    '../_base_/datasets/nyuv2_13.py', '../_base_/default_runtime.py',
    '../_base_/schedules/lifelong_adam.py'
]
tasks = ['semantic', 'depth', 'normal', 'saliency']
train_dataloader = dict(batch_size=8, num_workers=4)
train_cfg = dict(phases=[dict(task=t, max_epochs=20) for t in tasks])
visualizer = dict(type='MultiTaskLocalVisualizer')
# every input is 288x384: cuDNN picks its fastest kernels once
env_cfg = dict(cudnn_benchmark=True)
