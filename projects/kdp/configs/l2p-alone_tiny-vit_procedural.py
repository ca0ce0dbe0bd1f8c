# The tiny ViT-S student alone (no teacher) with L2P on the
# procedural shapes.
_base_ = ['./l2p-kdp_tiny-vit_procedural.py']
model = dict(teacher=None, student=dict(distill=None))
