# The tiny ViT-S student alone (no teacher) with CODA-Prompt on the
# procedural shapes.
_base_ = ['./tiny-vit_procedural_coda_kdp.py']
model = dict(teacher=None, student=dict(distill=None))
