# CODA-Prompt scaled to the tiny ViTs and 5 tasks: pool 20 (4 components
# per task), length 4, layers 0-4, orthogonality weight 0.
prompt = dict(
    type='CODAPrompt',
    pool_size=20,
    length=4,
    layers=(0, 1, 2, 3, 4),
    ortho_weight=0.0,
    # each new task's components re-initialised orthogonal to the
    # earlier ones (CODA-Prompt's Gram-Schmidt step)
    gram_schmidt=True)
