# The tiny ViT-S student alone (no teacher) with DualPrompt on the
# procedural shapes.
_base_ = ['./dualprompt-kdp_tiny-vit_procedural.py']
model = dict(teacher=None, student=dict(distill=None))
