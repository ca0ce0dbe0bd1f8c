"""Fit a heterogeneous teacher's adapter through an mmengine OptimWrapper."""
from typing import Callable, Dict, Iterator, Optional, Union

import torch.nn as nn
from mmengine.logging import MessageHub, MMLogger, print_log
from mmengine.optim import OptimWrapper

from had_mm.registry import OPTIM_WRAPPERS, OPTIMIZERS
from had_mm.utils.dist_sync import all_reduce_grads, broadcast_module_states


def build_adapter_optim_wrapper(teacher, task: str) -> OptimWrapper:
    """The optimizer wrapper of one adapter fitting.

    Built from the teacher's ``fit_optim_wrapper_cfg`` (its
    ``fit_optim_wrapper`` config, else Adam at ``fit_lr``) over
    ``teacher.adapter_parameters(task)`` only, so an ``AmpOptimWrapper``
    (or ``CPUAmpOptimWrapper``) config gives the fitting AMP and gradient
    clipping as in the main training.

    Args:
        teacher (HeteroLifelongTeacher): The teacher.
        task (str): The task whose adapter is fitted.

    Returns:
        OptimWrapper: The wrapper (a fresh optimizer state).
    """
    cfg = dict(teacher.fit_optim_wrapper_cfg)
    if 'constructor' in cfg or 'paramwise_cfg' in cfg:
        raise ValueError('fit_optim_wrapper takes no constructor / '
                         'paramwise_cfg: it optimises one adapter')
    cfg.setdefault('type', 'OptimWrapper')
    optimizer_cfg = dict(cfg.pop('optimizer'))
    optimizer_cfg['params'] = list(teacher.adapter_parameters(task))
    cfg['optimizer'] = OPTIMIZERS.build(optimizer_cfg)
    return OPTIM_WRAPPERS.build(cfg)


def fit_teacher_adapter(teacher,
                        task: str,
                        student: nn.Module,
                        batches: Iterator,
                        num_iters: int,
                        preprocess: Callable[[dict], dict],
                        logger: Union[MMLogger, str] = 'current',
                        log_interval: Optional[int] = 50) -> Dict[str, float]:
    """Fit the adapter of ``task`` on a phase's data, then freeze it.

    The lifelong loop calls this at the end of the phase of ``task``
    (while its data is still there). Each iteration takes a batch,
    computes ``teacher.adapter_loss`` (one frozen teacher pass, the
    student head's task loss on the adapter's output) and updates the
    adapter through an mmengine ``OptimWrapper``
    (:func:`build_adapter_optim_wrapper`). In a distributed run every rank
    fits the same adapter on its shard of the phase, as DDP would: rank 0's
    initialisation is broadcast first, the gradients are averaged over the
    ranks before each step, and rank 0's BN statistics are broadcast at the
    end. The loss terms go to the
    MessageHub as ``adapter_fit/<task>.<name>`` (outside the ``train/``
    keys the training log reads) and to ``logger`` every ``log_interval``
    iterations and at the end.

    Args:
        teacher (HeteroLifelongTeacher): The teacher.
        task (str): The phase's task.
        student (nn.Module): The student predictor: its head of ``task``
            gives the loss and its decode stride the adapter's output
            size. It is not changed, and the teacher does not keep it.
        batches (Iterator): Yields raw data batches of the phase.
        num_iters (int): Iterations when the teacher's ``fit_iters`` is
            None (the phase's).
        preprocess (callable): ``data_batch -> dict(inputs, data_samples)``
            (the student's data preprocessor, training mode).
        logger (MMLogger | str): Where the progress goes (the runner's
            logger). Defaults to ``'current'``.
        log_interval (int, optional): Log every this many iterations;
            None or 0: only the last. Defaults to 50.

    Returns:
        dict[str, float]: The last iteration's losses.
    """
    # a module-level import would be circular (models import the engine)
    from had_mm.models.distill.hetero_lifelong_teacher import decode_stride
    head = student.heads[task]
    adapter = teacher.begin_fit(task, head, decode_stride(student))
    # the same start on every rank, whatever each rank's seed
    broadcast_module_states(adapter)
    optim_wrapper = build_adapter_optim_wrapper(teacher, task)
    optim_wrapper.zero_grad()
    message_hub = MessageHub.get_current_instance()
    iters = teacher.num_fit_iters(num_iters)
    last: Dict[str, float] = {}
    for it in range(iters):
        data = preprocess(next(batches))
        with optim_wrapper.optim_context(adapter):
            losses = teacher.adapter_loss(task, head, data['inputs'],
                                          data['data_samples'])
        _update_params(optim_wrapper, sum(losses.values()),
                       teacher.adapter_parameters(task))
        last = {k: float(v) for k, v in losses.items()}
        for key, value in last.items():
            message_hub.update_scalar(f'adapter_fit/{task}.{key}', value)
        if log_interval and (it + 1) % log_interval == 0 and it + 1 < iters:
            print_log(
                f'heterogeneous teacher: {task} adapter, iteration '
                f'{it + 1}/{iters}, ' + _format(last),
                logger=logger)
    teacher.end_fit(task)
    broadcast_module_states(adapter)
    print_log(
        f'heterogeneous teacher ({teacher.teacher_name}): fitted the {task} '
        f'adapter in {iters} iterations, last loss ' + _format(last),
        logger=logger)
    return last


def _update_params(optim_wrapper: OptimWrapper, loss, params) -> None:
    """``optim_wrapper.update_params(loss)``, with the gradients of
    ``params`` averaged over the ranks before the step."""
    optim_wrapper.backward(optim_wrapper.scale_loss(loss))
    if optim_wrapper.should_update():
        all_reduce_grads(params)
        optim_wrapper.step()
        optim_wrapper.zero_grad()


def _format(losses: Dict[str, float]) -> str:
    return ', '.join(f'{k} {v:.4f}' for k, v in losses.items())
