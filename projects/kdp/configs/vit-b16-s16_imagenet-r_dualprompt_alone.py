# The ViT-S/16 student alone with DualPrompt on ImageNet-R (10 tasks x 20
# classes).
_base_ = ['./vit-b16-s16_imagenet-r_dualprompt_kdp.py']
model = dict(teacher=None, student=dict(distill=None))
