# Logit KD with CODA-Prompt on ImageNet-R (10 tasks x 20 classes), ViT-B/16 ->
# ViT-S/16.
_base_ = ['./coda-kdp_vit-b16-s16_imagenet-r.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True, type='LogitKD', alpha=0.5, temperature=2.0)))
