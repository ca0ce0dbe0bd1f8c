# Logit KD with DualPrompt on CIFAR-100 (10 tasks x 10 classes), ViT-B/16 ->
# ViT-S/16.
_base_ = ['./dualprompt-kdp_vit-b16-s16_cifar100.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True, type='LogitKD', alpha=0.5, temperature=2.0)))
