import copy
import os.path as osp
from datetime import datetime
from typing import Callable, Dict, List, Optional, Sequence, Union

import mmengine
import numpy as np
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.infer.infer import BaseInferencer
from mmengine.registry import FUNCTIONS
from mmseg.structures import SegDataSample

from had_mm.datasets.transforms import (IMAGE_EXTENSIONS,
                                        MultiTaskInferencerLoader)
from had_mm.datasets.transforms.inferencer_loading import check_channel_order
from had_mm.visualization import MultiTaskLocalVisualizer
from .inference import (build_inference_pipeline, check_inference_tasks,
                        init_model, predict_batch, sample_to_numpy,
                        save_predictions)
from .launch import load_config

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]


class MultiTaskInferencer(BaseInferencer):
    """Dense multi-task inferencer, following ``MMSegInferencer``.

    Builds a model from a config and a checkpoint (any had_mm checkpoint,
    e.g. a lifelong run's ``phase_<t>_<task>.pth``, loaded strictly and
    safely) and predicts, per image, the tasks asked for: class map, depth
    in metres, unit normals and saliency probability.

    Example::

        >>> inferencer = MultiTaskInferencer(
        ...     'configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py',
        ...     'work_dirs/demo/phase_4_saliency.pth', device='cpu')
        >>> out = inferencer('room.png', out_dir='outputs')
        >>> out['predictions']['depth'].shape  # H x W metres
        >>> inferencer('photos/', tasks=['semantic', 'depth'])

    Args:
        model (str | Config | dict): Config file or loaded config.
        weights (str, optional): Checkpoint file; None = random weights.
        tasks (Sequence[str], optional): Default tasks of every call;
            default: every task the checkpoint has learnt.
        classes (Sequence[str], optional): Class names for the panels;
            default: the checkpoint's data set meta.
        palette (Sequence, optional): RGB per class for the panels and the
            semantic PNG; default: the checkpoint's.
        device (str, optional): ``'cpu'`` or ``'cuda'``; default: a GPU if
            there is one.
        channel_order (str): Channel order of array inputs: ``'rgb'``
            (default; numpy, scikit-image, PIL) or ``'bgr'``
            (``mmcv.imread``, ``cv2.imread``). Files are read as they are.
        allow_untrained (bool): Predict tasks the checkpoint has not
            trained (e.g. ``depth`` with a lifelong run's
            ``phase_1_semantic.pth``), with a warning, instead of refusing
            them. Defaults to False.
        scope (str): Default registry scope. Defaults to ``'had_mm'``.
        cfg_options (dict, optional): Overrides of the config.
        show_progress (bool): Show a progress bar. Defaults to False.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = {'tasks'}
    visualize_kwargs: set = {'show', 'wait_time', 'img_out_dir', 'return_vis'}
    postprocess_kwargs: set = {'pred_out_dir', 'return_datasample'}

    def __init__(self,
                 model: Union[str, Config, dict],
                 weights: Optional[str] = None,
                 tasks: Optional[Sequence[str]] = None,
                 classes: Optional[Sequence[str]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 device: Optional[str] = None,
                 channel_order: str = 'rgb',
                 allow_untrained: bool = False,
                 scope: str = 'had_mm',
                 cfg_options: Optional[dict] = None,
                 show_progress: bool = False) -> None:
        if isinstance(model, str) and not osp.isfile(model):
            # BaseInferencer would look the name up in a model zoo
            raise FileNotFoundError(
                f'config file "{model}" does not exist; pass a config under '
                'configs/ (e.g. configs/had/'
                'had_r18-d8-c64_synthetic-rooms-4tasks.py)')
        if isinstance(model, str):
            model = load_config(model, cfg_options)
        else:
            model = copy.deepcopy(model) if isinstance(
                model, Config) else Config(dict(model))
            if cfg_options:
                model.merge_from_dict(cfg_options)
        self.num_inputs = 0  # names the outputs of array inputs
        self.channel_order = check_channel_order(channel_order)
        self.allow_untrained = allow_untrained
        self._input_names: List[str] = []
        self._writes_files = True
        super().__init__(
            model=model,
            weights=weights,
            device=device,
            scope=scope,
            show_progress=show_progress)
        self.tasks = check_inference_tasks(self.model, tasks, allow_untrained)
        meta = dict(self.model.dataset_meta)
        if classes is not None:
            meta['classes'] = tuple(classes)
        if palette is not None:
            meta['palette'] = [list(c) for c in palette]
        self.model.dataset_meta = meta
        self.visualizer.dataset_meta = meta

    # ------------------------------------------------------------ set-up
    def _init_model(self,
                    cfg: Config,
                    weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        """Build the model and load ``weights`` strictly (safe loader)."""
        return init_model(cfg, weights, device)

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The test pipeline without label loading (see
        :func:`~had_mm.apis.build_inference_pipeline`)."""
        return build_inference_pipeline(self.model.cfg, self.channel_order)

    def _init_collate(self, cfg: Config) -> Callable:
        """The test dataloader's ``collate_fn`` (default
        ``pseudo_collate``, which had_mm's data preprocessor expects)."""
        name = (cfg.get('test_dataloader') or {}).get('collate_fn')
        if name is None:
            return pseudo_collate
        return FUNCTIONS.get(name['type'] if isinstance(name, dict) else name)

    def _init_visualizer(self, cfg: Config) -> MultiTaskLocalVisualizer:
        """A :class:`MultiTaskLocalVisualizer` of its own (the config's may
        be mmseg's single-task one), with class boundaries drawn."""
        vis_cfg = cfg.get('visualizer') or {}
        kwargs = {}
        if vis_cfg.get('type') == 'MultiTaskLocalVisualizer':
            kwargs['depth_cmap'] = vis_cfg.get('depth_cmap', 'magma_r')
            kwargs['labelled'] = vis_cfg.get('labelled', True)
        name = f'had_mm_inferencer_{datetime.now().timestamp()}'
        return MultiTaskLocalVisualizer.get_instance(
            name, boundaries=True, **kwargs)

    def _inputs_to_list(self, inputs: InputsType) -> list:
        """Expand folders into their image files (sorted) and name the
        outputs of each input (see :meth:`output_names`)."""
        items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        out = []
        for item in items:
            if isinstance(item, str) and osp.isdir(item):
                files = sorted(
                    f for f in mmengine.list_dir_or_file(item, list_dir=False)
                    if f.lower().endswith(IMAGE_EXTENSIONS))
                if not files:
                    raise FileNotFoundError(
                        f'folder "{item}" has no images (looked for '
                        f'{", ".join(IMAGE_EXTENSIONS)})')
                out += [osp.join(item, f) for f in files]
            elif isinstance(item, str) and not osp.isfile(item):
                raise FileNotFoundError(f'image "{item}" does not exist')
            else:
                out.append(item)
        if not out:
            raise ValueError('no inputs: pass an image path, a folder, an '
                             'array or a list of them')
        self._input_names = self.output_names(out, self.num_inputs,
                                              self._writes_files)
        return out

    @staticmethod
    def output_names(inputs: list,
                     start: int = 0,
                     refuse_collisions: bool = True) -> List[str]:
        """The name of each input's output files, unique within a call.

        A file is named by its stem (``room.png`` -> ``room``); files that
        share a stem keep their extension (``chelsea.jpg`` ->
        ``chelsea_jpg``, ``chelsea.png`` -> ``chelsea_png``); an array is
        numbered by its position among all the inputs of the inferencer
        (``00000003``). Two inputs that would still share a name (one
        file name in two folders) are refused when files are written, so
        that no output overwrites another.

        Args:
            inputs (list): Paths and arrays, as :meth:`_inputs_to_list`
                expands them.
            start (int): The number of the first input.
            refuse_collisions (bool): Refuse two inputs of one name; False
                (nothing is written) numbers the second (``x_1``).

        Returns:
            list[str]: One name per input.

        Raises:
            ValueError: One line naming the two inputs of a name.
        """
        stems = [
            osp.splitext(osp.basename(x))[0] if isinstance(x, str) else None
            for x in inputs
        ]
        names, owner = [], {}
        for index, (item, stem) in enumerate(zip(inputs, stems)):
            if stem is None:
                name = f'{start + index:08d}'
            elif stems.count(stem) == 1:
                name = stem
            else:
                base, ext = osp.splitext(osp.basename(item))
                name = f'{base}_{ext.lstrip(".")}' if ext else base
            if name in owner and not refuse_collisions:
                name = f'{name}_{index}'
            elif name in owner:
                first = owner[name]
                first = first if isinstance(first, str) else 'an array'
                second = item if isinstance(item, str) else 'an array'
                raise ValueError(
                    f'inputs "{first}" and "{second}" would both write '
                    f'outputs named "{name}" (one would overwrite the '
                    f'other); rename one, or predict them in separate '
                    f'calls with separate out_dir')
            owner[name] = item
            names.append(name)
        return names

    # ------------------------------------------------------------ calls
    def __call__(self,
                 inputs: InputsType,
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 tasks: Optional[Sequence[str]] = None,
                 return_vis: bool = False,
                 show: bool = False,
                 wait_time: float = 0,
                 out_dir: str = '',
                 img_out_dir: str = 'vis',
                 pred_out_dir: str = 'pred') -> dict:
        """Predict images.

        Args:
            inputs (str | np.ndarray | list): An image file, a folder (its
                image files, sorted), an ``HxWx3`` array in the
                inferencer's ``channel_order`` (RGB by default; uint8 0-255
                or float in [0, 1]) or a list of them. The outputs of each
                are named by :meth:`output_names`.
            return_datasamples (bool): Return the ``SegDataSample``\\ s
                instead of arrays. Defaults to False.
            batch_size (int): Images per forward pass. Defaults to 1.
            tasks (Sequence[str], optional): Tasks to predict; default:
                the inferencer's ``tasks``.
            return_vis (bool): Also return the panels. Defaults to False.
            show (bool): Show the panels in a window. Defaults to False.
            wait_time (float): Seconds to show each. Defaults to 0.
            out_dir (str): Where to save; ``''`` saves nothing.
            img_out_dir (str): Sub-folder of ``out_dir`` for the panels
                (``''``: none).
            pred_out_dir (str): Sub-folder of ``out_dir`` for the
                prediction files (``''``: none; see
                :func:`~had_mm.apis.save_predictions`).

        Returns:
            dict: ``predictions``: per image a dict ``{task: array}`` (see
            :func:`~had_mm.apis.sample_to_numpy`), and ``visualization``:
            the panels (with ``return_vis``); for a single image, its
            dict and panel instead of lists. With ``return_datasamples``,
            the sample(s).
        """
        if tasks is not None:  # before any image is read
            tasks = check_inference_tasks(self.model, tasks,
                                          self.allow_untrained)
        img_out_dir = osp.join(
            out_dir, img_out_dir) if (out_dir and img_out_dir) else ''
        pred_out_dir = osp.join(
            out_dir, pred_out_dir) if (out_dir and pred_out_dir) else ''
        self._writes_files = bool(img_out_dir or pred_out_dir)
        return super().__call__(
            inputs,
            return_datasamples=return_datasamples,
            batch_size=batch_size,
            tasks=tasks,
            return_vis=return_vis,
            show=show,
            wait_time=wait_time,
            img_out_dir=img_out_dir,
            pred_out_dir=pred_out_dir)

    def preprocess(self, inputs: list, batch_size: int = 1, **kwargs):
        """Yield collated batches of ``batch_size`` pipeline outputs.

        Each output records its name (``input_name``, from
        :meth:`output_names`), so that saved files are named after the
        input.
        """
        names = self._input_names
        if len(names) != len(inputs):  # called without _inputs_to_list
            names = self.output_names(inputs, self.num_inputs)

        def load(pair):
            index, item = pair
            data = self.pipeline(dict(img=item))
            data['data_samples'].set_metainfo(dict(input_name=names[index]))
            return data

        chunks = self._get_chunk_data(map(load, enumerate(inputs)), batch_size)
        yield from map(self.collate_fn, chunks)

    def forward(self,
                inputs: dict,
                tasks: Optional[Sequence[str]] = None) -> List[SegDataSample]:
        """Predict one collated batch.

        Args:
            inputs (dict): A batch from :meth:`preprocess`.
            tasks (Sequence[str], optional): Checked tasks; default:
                ``self.tasks``.

        Returns:
            list[SegDataSample]: The predicted samples.
        """
        return predict_batch(self.model, inputs,
                             self.tasks if tasks is None else tasks)

    def visualize(self,
                  inputs: list,
                  preds: List[SegDataSample],
                  return_vis: bool = False,
                  show: bool = False,
                  wait_time: float = 0,
                  img_out_dir: str = '') -> Optional[List[np.ndarray]]:
        """Draw the panels: the image (class boundaries marked) and one
        panel per predicted task.

        Args:
            inputs (list): The inputs, as :meth:`_inputs_to_list` gives.
            preds (list[SegDataSample]): The predictions.
            return_vis (bool): Return the panels.
            show (bool): Show them.
            wait_time (float): Seconds to show each.
            img_out_dir (str): Folder to write ``<name>.png`` to.

        Returns:
            list[np.ndarray] | None: RGB panels, with ``return_vis``.
        """
        if not (show or img_out_dir or return_vis):
            return None
        loader = MultiTaskInferencerLoader(self.channel_order)
        results = []
        for item, pred in zip(inputs, preds):
            image = loader(dict(img=item))['img'][..., ::-1]  # BGR -> RGB
            name = pred.metainfo['input_name']
            out_file = osp.join(img_out_dir, f'{name}.png') \
                if img_out_dir else None
            self.visualizer.add_datasample(
                name,
                np.ascontiguousarray(image),
                pred,
                show=show,
                wait_time=wait_time,
                out_file=out_file)
            if return_vis:
                results.append(self.visualizer.get_image())
        return results if return_vis else None

    def postprocess(
        self,
        preds: List[SegDataSample],
        visualization: Optional[List[np.ndarray]],
        return_datasample: bool = False,
        pred_out_dir: str = ''
    ) -> Union[dict, SegDataSample, List[SegDataSample]]:
        """Convert (and save) the predictions.

        Args:
            preds (list[SegDataSample]): The predictions.
            visualization (list[np.ndarray], optional): The panels.
            return_datasample (bool): Return the samples as they are.
            pred_out_dir (str): Folder for the prediction files; ``''``
                writes none.

        Returns:
            dict | SegDataSample | list[SegDataSample]: See
            :meth:`__call__`.
        """
        self.num_inputs += len(preds)
        if pred_out_dir:
            palette = self.model.dataset_meta.get('palette')
            for pred in preds:
                save_predictions(
                    sample_to_numpy(pred), pred_out_dir,
                    pred.metainfo['input_name'], palette)
        if return_datasample:
            return preds[0] if len(preds) == 1 else preds
        predictions: List[Dict[str, np.ndarray]] = [
            sample_to_numpy(p) for p in preds
        ]
        vis = visualization if visualization is not None else []
        if len(predictions) == 1:
            return dict(
                predictions=predictions[0],
                visualization=vis[0] if vis else None)
        return dict(predictions=predictions, visualization=vis)
