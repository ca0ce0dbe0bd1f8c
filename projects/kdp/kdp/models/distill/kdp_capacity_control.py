from typing import Dict

from torch import Tensor

from had_mm.registry import MODELS
from .distill_inputs import DistillInputs
from .kdp_distill import KDPDistill


@MODELS.register_module()
class KDPCapacityControl(KDPDistill):
    """The capacity-matched control of KDP: its KD prompts, no teacher.

    The same KD token, KD prefix prompts and ``kd_last`` head as
    :class:`KDPDistill` (as many extra parameters, in the same places) and
    the same inference rule ``(1 - a) last(CLS) + a kd_last(KD)``, but the
    KD head learns from the labels instead of the teacher:

    ``L = (1 - a) CE(last(CLS), y) + a CE(kd_last(KD), y)``

    over the current task's classes. It needs no teacher (use it with
    ``teacher=None``); the difference to KDP is then the distillation
    alone, not the extra capacity.

    Args:
        embed_dims (int): The student ViT's embedding dimension.
        num_classes (int): Number of classes.
        num_layers (int, optional): The student ViT's depth. Defaults to
            None.
        alpha (float): Weight ``a``. Defaults to 0.5.
        temperature (float): Unused (no soft targets); kept so the KDP
            config's arguments carry over. Defaults to 2.0.
        prompt_length (int): KD prefix prompt length (even). Defaults to 6.
        prompt_layers (Sequence[int], optional): KD-prompted layers.
            Defaults to None: ``1 .. num_layers - 1``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    needs_teacher = False

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce`` on the CLS head (weighted by ``1 - a``) and
        ``loss_ce_kd`` on the KD head ``kd_last(KD)`` (weighted by ``a``);
        no teacher."""
        return dict(
            loss_ce=(1 - self.alpha) * inputs.ce(inputs.cls_logits),
            loss_ce_kd=self.alpha * inputs.ce(inputs.token_logits))
