# ReviewKD (attention-based fusion of the patch-token maps of 3 layers and the
# class token, hierarchical context loss) with L2P, tiny ViT-B -> tiny ViT-S on
# the procedural shapes. (1 - a) CE + a logit KD (a = 0.5, T = 2, as the KDP
# authors add it) + HCL (weight 1, pooled sizes 4, 2, 1); the teacher layers
# are those at the same relative depths.
_base_ = ['./l2p-kdp_tiny-vit_procedural.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True,
            type='ReviewKDDistill',
            alpha=0.5,
            temperature=2.0,
            student_layers=(1, 3, 5),
            with_cls=True,
            loss_weight=1.0)))
