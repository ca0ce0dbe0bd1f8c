# The ViT-S/16 student alone with CODA-Prompt on CIFAR-100 (10 tasks x 10
# classes).
_base_ = ['./vit-b16-s16_cifar100_coda_kdp.py']
model = dict(teacher=None, student=dict(distill=None))
