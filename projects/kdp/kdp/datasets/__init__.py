"""KDP data: class-incremental splits of CIFAR-100, ImageNet-R and a
procedural shapes set."""
from .cifar100_pickle import CIFAR100Pickle
from .class_incremental_dataset import ClassIncrementalDataset
from .class_split import (check_class_order, check_tasks, classes_per_task,
                          make_class_order, task_class_range)
from .imagenet_r import ImageNetR
from .procedural_shapes import (ProceduralShapes, generate_procedural,
                                procedural_classes)

__all__ = [
    'CIFAR100Pickle', 'ClassIncrementalDataset', 'ImageNetR',
    'ProceduralShapes', 'check_class_order', 'check_tasks', 'classes_per_task',
    'make_class_order', 'task_class_range', 'generate_procedural',
    'procedural_classes'
]
