# The ViT-S/16 student alone with DualPrompt on ImageNet-R (10 tasks x 20
# classes).
_base_ = ['./dualprompt-kdp_vit-b16-s16_imagenet-r.py']
model = dict(teacher=None, student=dict(distill=None))
