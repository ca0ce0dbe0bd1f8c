# Channel-wise distillation baseline (Shu et al. 2021: per-channel spatial
# softmax at tau 4, KL, tau^2 scaling, weight 3) on the final logits, no
# adapters, for the pair of
# heteroakd_mit-b0_to_effnet-lite0-d8_synthetic-rooms-seg.py.
_base_ = ['./heteroakd_mit-b0_to_effnet-lite0-d8_synthetic-rooms-seg.py']
model = dict(
    student_adapter=None,
    teacher_adapter=None,
    distill_losses=dict(
        _delete_=True,
        loss_cwd=dict(
            type='ChannelWiseDivergenceLoss', tau=4.0, loss_weight=3.0)),
    loss_forward_mappings=dict(
        _delete_=True,
        loss_cwd=dict(
            student_logits=dict(from_student=True, recorder='logits'),
            teacher_logits=dict(from_student=False, recorder='logits'))))
