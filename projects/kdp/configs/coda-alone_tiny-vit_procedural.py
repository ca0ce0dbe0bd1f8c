# The tiny ViT-S student alone (no teacher) with CODA-Prompt on the
# procedural shapes.
_base_ = ['./coda-kdp_tiny-vit_procedural.py']
model = dict(teacher=None, student=dict(distill=None))
