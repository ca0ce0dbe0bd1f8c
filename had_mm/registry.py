"""had_mm registries: children of MMSegmentation's, in scope ``had_mm``.

A config with ``default_scope = 'had_mm'`` finds had_mm types here and, through
the parents, every mmseg and mmengine type; other scopes are reached by prefix
(``type='mmpretrain.ConvNeXt'``).
"""
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

RUNNERS = Registry('runner', parent=MMSEG_RUNNERS, locations=['had_mm.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMSEG_RUNNER_CONSTRUCTORS,
    locations=['had_mm.engine'])
LOOPS = Registry('loop', parent=MMSEG_LOOPS, locations=['had_mm.engine'])
HOOKS = Registry('hook', parent=MMSEG_HOOKS, locations=['had_mm.engine'])
DATASETS = Registry(
    'dataset', parent=MMSEG_DATASETS, locations=['had_mm.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMSEG_DATA_SAMPLERS, locations=['had_mm.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMSEG_TRANSFORMS,
    locations=['had_mm.datasets.transforms'])
MODELS = Registry('model', parent=MMSEG_MODELS, locations=['had_mm.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMSEG_MODEL_WRAPPERS, locations=['had_mm.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMSEG_WEIGHT_INITIALIZERS,
    locations=['had_mm.models'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMSEG_OPTIMIZERS, locations=['had_mm.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMSEG_OPTIM_WRAPPERS, locations=['had_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['had_mm.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMSEG_PARAM_SCHEDULERS,
    locations=['had_mm.engine'])
METRICS = Registry(
    'metric', parent=MMSEG_METRICS, locations=['had_mm.evaluation'])
EVALUATOR = Registry(
    'evaluator', parent=MMSEG_EVALUATOR, locations=['had_mm.evaluation'])
TASK_UTILS = Registry(
    'task util', parent=MMSEG_TASK_UTILS, locations=['had_mm.models'])
VISUALIZERS = Registry(
    'visualizer', parent=MMSEG_VISUALIZERS, locations=['had_mm.visualization'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMSEG_VISBACKENDS,
    locations=['had_mm.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMSEG_LOG_PROCESSORS, locations=['had_mm.engine'])
INFERENCERS = Registry(
    'inferencer', parent=MMSEG_INFERENCERS, locations=['had_mm.apis'])
# Dense task types (had_mm.tasks.TaskSpec), keyed by task name. mmseg has no
# such registry to be a child of, so it is a root in scope had_mm; another
# package adds a task type by registering a spec here.
TASKS = Registry('task type', scope='had_mm', locations=['had_mm.tasks'])
