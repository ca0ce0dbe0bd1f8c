# The ViT-S/16 student alone with L2P on ImageNet-R (10 tasks x 20 classes).
_base_ = ['./l2p-kdp_vit-b16-s16_imagenet-r.py']
model = dict(teacher=None, student=dict(distill=None))
