# ReviewKD (attention-based fusion of the patch-token maps of 4 layers and the
# class token, hierarchical context loss) with CODA-Prompt, ViT-B/16 ->
# ViT-S/16 on ImageNet-R (10 tasks x 20 classes).
# (1 - a) CE + a logit KD (a = 0.5, T = 2, as the KDP authors add it) + HCL
# (weight 1, pooled sizes 4, 2, 1); the teacher layers are those at the same
# relative depths.
_base_ = ['./coda-kdp_vit-b16-s16_imagenet-r.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True,
            type='ReviewKDDistill',
            alpha=0.5,
            temperature=2.0,
            student_layers=(2, 5, 8, 11),
            with_cls=True,
            loss_weight=1.0)))
