# tiny_lifelong.py with SyncBN, as the GPU configs set it: BatchNorm
# statistics that follow each rank's shard unless they are synchronised (the
# rank-equality tests). On CPUs SyncBN becomes BN. data_root set by tests.
_base_ = ['./tiny_lifelong.py']
# _delete_: replaces the base's GroupNorm settings
norm_cfg = dict(_delete_=True, type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=norm_cfg),
    heads=dict(
        semantic=dict(norm_cfg=norm_cfg),
        depth=dict(body=dict(norm_cfg=norm_cfg)),
        normal=dict(body=dict(norm_cfg=norm_cfg))))
