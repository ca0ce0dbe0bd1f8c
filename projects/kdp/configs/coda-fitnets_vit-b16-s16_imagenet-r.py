# FitNets (a hint on the last layer's tokens through a learned linear
# regressor) with CODA-Prompt, ViT-B/16 -> ViT-S/16 on ImageNet-R (10 tasks x
# 20 classes).
# The KDP authors' FitNets baseline: (1 - a) CE + a logit KD (a = 0.5, T = 2) +
# 0.1 hint; the teacher layer is the one at the same relative depth
# (teacher_dims / teacher_num_layers come from the teacher).
_base_ = ['./coda-kdp_vit-b16-s16_imagenet-r.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True,
            type='FitNetsDistill',
            alpha=0.5,
            temperature=2.0,
            student_layer=-1,
            hint_weight=0.1)))
