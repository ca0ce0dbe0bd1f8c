# The tiny ViT-S student alone (no teacher) with L2P on the
# procedural shapes.
_base_ = ['./tiny-vit_procedural_l2p_kdp.py']
model = dict(teacher=None, student=dict(distill=None))
