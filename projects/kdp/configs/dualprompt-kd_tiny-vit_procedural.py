# Logit KD (the KDP loss on the CLS head, no KD prompts) with DualPrompt,
# tiny ViT-B -> tiny ViT-S on the procedural shapes.
_base_ = ['./dualprompt-kdp_tiny-vit_procedural.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True, type='LogitKD', alpha=0.5, temperature=2.0)))
