# CODA-Prompt: pool 100, length 8, layers 0-4, attention-weighted
# components, orthogonality weight 0.
prompt = dict(
    type='CODAPrompt',
    pool_size=100,
    length=8,
    layers=(0, 1, 2, 3, 4),
    ortho_weight=0.0,
    # each new task's components re-initialised orthogonal to the
    # earlier ones (CODA-Prompt's Gram-Schmidt step)
    gram_schmidt=True)
