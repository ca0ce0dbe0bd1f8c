# The ViT-S/16 student alone with L2P on CIFAR-100 (10 tasks x 10 classes).
_base_ = ['./l2p-kdp_vit-b16-s16_cifar100.py']
model = dict(teacher=None, student=dict(distill=None))
