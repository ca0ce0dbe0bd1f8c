# The tiny ViT-S student alone (no teacher) with DualPrompt on the
# procedural shapes.
_base_ = ['./tiny-vit_procedural_dualprompt_kdp.py']
model = dict(teacher=None, student=dict(distill=None))
