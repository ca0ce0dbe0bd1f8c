# DualPrompt scaled to the tiny ViTs and 5 tasks: G-prompt length 2 on
# layers 0-1; E-prompt pool 5 (one per task), length 4 on layers 2-4.
prompt = dict(
    type='DualPrompt',
    g_length=2,
    g_layers=(0, 1),
    e_pool_size=5,
    e_length=4,
    e_layers=(2, 3, 4))
