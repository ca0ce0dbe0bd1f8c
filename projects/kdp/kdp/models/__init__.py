"""KDP models: prompt-based continual learners on frozen mmpretrain ViTs
and their distillation (registered in had_mm's ``MODELS``).

Interface used by the continual loop (on a :class:`ContinualDistiller`, or
a bare :class:`PromptContinualClassifier` where noted *):

- ``model.begin_task(task_id, classes_seen, (start, end))`` *: start a task;
  ``classes_seen`` counts the classes seen including this task's (test-time
  logits ``>= classes_seen`` are masked; a value below ``end`` is taken as
  ``end``), ``(start, end)`` is this task's class slice (end exclusive;
  training losses use only these logits and labels must lie in it).
- ``model.set_stage('teacher' | 'student')``: the stage that
  ``train_step`` / ``forward(mode='loss')`` trains; ``'teacher'`` is an
  error when the config has ``teacher=None`` (the student learns alone;
  the model starts in ``'teacher'`` when there is a teacher, else in
  ``'student'``).
- ``model.stage_parameters()``: the active stage's trainable parameters
  (prompts, keys, tokens, heads) for a fresh optimizer per task and stage.
  ``requires_grad`` is not toggled between stages; a DDP wrapper needs
  ``find_unused_parameters=True``. (* a classifier has
  ``trainable_parameters()``.)
- ``model.predict_with = 'student' | 'teacher'``: the model used by
  ``val_step`` / ``test_step`` / ``forward(mode='predict')``.
- ``train_step`` / ``val_step`` / ``test_step``: mmengine's ``BaseModel``
  ones, unchanged *.

Prompt pools (:class:`L2PPrompt`, :class:`DualPrompt`, :class:`CODAPrompt`)
take ``begin_task(task_id, num_tasks)`` (the classifier passes its
``num_tasks``, by default ``ceil(num_classes / task size)``) and return
``(prefixes, prompt_loss)`` from ``forward(query, train)`` with
``prefixes = {layer: (keys, values)}``, ``B x P x D`` each.
"""
from .continual_distiller import ContinualDistiller
from .distill import (AttentionFusion, BaseDistill, BaseFeatureDistill,
                      DistillInputs, DistTokenKD, DKDDistill, FitNetsDistill,
                      KDPCapacityControl, KDPDistill, LogitKD, ReviewKDDistill,
                      soft_kl, tokens_to_map)
from .losses import DKDLoss, HCLLoss, HintLoss
from .prompt_continual_classifier import (DEFAULT_DATA_PREPROCESSOR,
                                          PromptContinualClassifier)
from .prompted_vit import (PromptedViT, encode_tokens,
                           encode_tokens_and_features, prefix_attention)
from .prompts import (BasePromptPool, CODAPrompt, DualPrompt, KDPPrompt,
                      L2PPrompt)
from .utils import (check_prompt_layers, check_prompt_length,
                    load_vit_checkpoint, merge_prefixes, split_prefix)

__all__ = [
    'AttentionFusion', 'BaseDistill', 'BaseFeatureDistill', 'BasePromptPool',
    'CODAPrompt', 'ContinualDistiller', 'DEFAULT_DATA_PREPROCESSOR',
    'DKDDistill', 'DKDLoss', 'DistillInputs', 'DistTokenKD', 'DualPrompt',
    'FitNetsDistill', 'HCLLoss', 'HintLoss', 'KDPCapacityControl',
    'KDPDistill', 'KDPPrompt', 'L2PPrompt', 'LogitKD',
    'PromptContinualClassifier', 'PromptedViT', 'ReviewKDDistill',
    'check_prompt_layers', 'check_prompt_length', 'encode_tokens',
    'encode_tokens_and_features', 'load_vit_checkpoint', 'merge_prefixes',
    'prefix_attention', 'soft_kl', 'split_prefix', 'tokens_to_map'
]
