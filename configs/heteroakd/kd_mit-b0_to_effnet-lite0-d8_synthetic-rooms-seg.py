# Plain logit KD baseline (KL at temperature 1 on the final logits, weight 1,
# no adapters) for the pair of
# heteroakd_mit-b0_to_effnet-lite0-d8_synthetic-rooms-seg.py.
_base_ = ['./heteroakd_mit-b0_to_effnet-lite0-d8_synthetic-rooms-seg.py']
model = dict(
    student_adapter=None,
    teacher_adapter=None,
    distill_losses=dict(
        _delete_=True,
        loss_kd=dict(type='LogitKDLoss', tau=1.0, loss_weight=1.0)),
    loss_forward_mappings=dict(
        _delete_=True,
        loss_kd=dict(
            student_logits=dict(from_student=True, recorder='logits'),
            teacher_logits=dict(from_student=False, recorder='logits'))))
