"""The model index: every metafile it imports is in mmseg's schema, names
configs that exist and build, publishes no invented weights, and every
number in it equals what the committed results file it names gives."""
import csv
import math
import os.path as osp
import sys

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy import stats
from tool_runner import REPO

from had_mm.registry import MODELS

# metric name in a metafile -> (column of the results file, decimals)
COLUMNS = {
    'lifelong_synthetic.csv': {
        'mIoU': ('semantic', 2),
        'abs_err (m)': ('depth', 3),
        'mean angle (deg)': ('normal', 2),
        'max F': ('saliency', 2),
        'avg forgetting (%)': ('avg_forgetting', 2),
        'BWT (%)': ('bwt', 2),
        'Delta_m (%)': ('delta_m', 2),
    },
    'heteroakd_synthetic.csv': {
        'mIoU': ('mIoU', 2),
        'mIoU - student alone': ('mIoU', 2),
    },
    'procedural.csv': {
        'final avg acc (%)': ('final_avg_acc', 2),
        'forgetting (%)': ('forgetting', 2),
    },
}
# what a paired metric's rows are paired by, per results file
PAIRED_BY = {'heteroakd_synthetic.csv': ('seed', )}


def _yaml(path):
    with open(osp.join(REPO, path)) as f:
        return yaml.safe_load(f)


def _metafiles():
    return _yaml('model-index.yml')['Import']


def _models():
    return [(path, model) for path in _metafiles()
            for model in _yaml(path)['Models']]


MODELS_IN_INDEX = _models()
IDS = [model['Name'] for _, model in MODELS_IN_INDEX]


def _rows(path):
    with open(osp.join(REPO, path)) as f:
        lines = [ln for ln in f if not ln.startswith('#')]
    return list(csv.DictReader(lines))


def _select(rows, where):
    return [r for r in rows if all(r[k] == str(v) for k, v in where.items())]


def _mean_ci(values):
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean)**2 for v in values) / (n - 1))
    return mean, stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)


def test_model_index_imports_every_metafile():
    assert _metafiles() == [
        'configs/had/metafile.yaml', 'configs/heteroakd/metafile.yaml',
        'projects/kdp/metafile.yaml'
    ]


@pytest.mark.parametrize('path', _metafiles())
def test_metafile_schema(path):
    meta = _yaml(path)
    assert set(meta) == {'Collections', 'Models'}
    names = set()
    for coll in meta['Collections']:
        assert {'Name', 'Paper', 'README', 'Metadata'} <= set(coll), coll
        assert coll['Paper']['URL'].startswith('https://arxiv.org/abs/')
        assert osp.isfile(osp.join(REPO, coll['README'])), coll['README']
        names.add(coll['Name'])
    seen = set()
    for model in meta['Models']:
        keys = {'Name', 'In Collection', 'Config', 'Metadata', 'Results'}
        assert keys <= set(model), model.get('Name')
        assert model['Name'] not in seen
        seen.add(model['Name'])
        assert model['In Collection'] in names
        # the name is the config's, as in mmseg
        assert osp.basename(model['Config']) == model['Name'] + '.py'
        # no checkpoint is published: Weights is there and empty
        assert model['Weights'] == '', model['Name']
        for result in model['Results']:
            assert set(result) == {'Task', 'Dataset', 'Metrics'}
            assert result['Metrics'] and all(
                isinstance(v, (int, float))
                for v in result['Metrics'].values())


@pytest.mark.parametrize(('path', 'model'), MODELS_IN_INDEX, ids=IDS)
def test_metafile_numbers_equal_the_results_file(path, model):
    bench = model['Metadata']['Benchmark']
    results_file = bench['Results File']
    assert osp.isfile(osp.join(REPO, results_file)), results_file
    with open(osp.join(REPO, results_file)) as f:
        # the file's header names the command that wrote it
        command = f.readline()
    script = bench['Command'].split('python ', 1)[1].split()[0]
    assert script in command, (bench['Command'], command)
    rows = _select(_rows(results_file), bench['Rows'])
    assert len(rows) == bench['Runs'] >= 2
    columns = COLUMNS[osp.basename(results_file)]
    checked = 0
    for result in model['Results']:
        for key, value in result['Metrics'].items():
            name = key[:-len(' CI95')] if key.endswith(' CI95') else key
            column, decimals = columns[name]
            if ' - ' in name:  # paired with Paired With's rows
                by = PAIRED_BY[osp.basename(results_file)]
                other = {
                    tuple(r[k] for k in by): float(r[column])
                    for r in _select(
                        _rows(results_file), bench['Paired With'])
                }
                values = [
                    float(r[column]) - other[tuple(r[k] for k in by)]
                    for r in rows
                ]
            else:
                values = [float(r[column]) for r in rows if r[column] != '']
            mean, ci = _mean_ci(values)
            expected = ci if key.endswith(' CI95') else mean
            error = abs(value - round(expected, decimals))
            assert error < 10**-decimals / 2, (model['Name'], key, value,
                                               expected)
            checked += 1
    assert checked >= 2


@pytest.fixture(scope='module')
def _scope():
    import had_mm  # noqa: F401
    from had_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    __import__('projects.kdp.kdp')
    torch.set_num_threads(1)
    init_default_scope('had_mm')


_BUILT = {}  # config path -> checkpoint of the model it built


def _fromfile(path):
    return Config.fromfile(
        path, import_custom_modules=False, format_python_code=False)


def _checkpoint_of(config, folder, model=None):
    """A checkpoint of a config's model (random init), made once; a
    distiller's teacher is often a config built before it."""
    config = osp.normpath(config)
    if config not in _BUILT:
        model = model or MODELS.build(_fromfile(config).model)
        path = str(folder / (osp.basename(config) + '.pth'))
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
        _BUILT[config] = path
    return _BUILT[config]


@pytest.mark.parametrize(('path', 'model'), MODELS_IN_INDEX, ids=IDS)
def test_metafile_config_builds(path, model, _scope, tmp_path_factory):
    config = osp.join(REPO, model['Config'])
    assert osp.isfile(config), model['Config']
    cfg = _fromfile(config).model
    folder = tmp_path_factory.getbasetemp()
    if cfg.get('teacher_cfg') and cfg.get('teacher_ckpt'):
        # a distiller: give it a checkpoint of its teacher config
        cfg.teacher_ckpt = _checkpoint_of(cfg.teacher_cfg, folder)
    for part in ('student', 'teacher'):
        # KDP: the tiny ViTs' pre-trained weights are made by a tool
        if isinstance(cfg.get(part), dict):
            for key in ('backbone_checkpoint', 'query_checkpoint'):
                if key in cfg[part]:
                    cfg[part][key] = None
    torch.manual_seed(0)
    built = MODELS.build(cfg)
    assert sum(p.numel() for p in built.parameters()) > 0
    if 'teacher_cfg' not in cfg and 'student' not in cfg:
        _checkpoint_of(config, folder, built)  # a teacher of a later one
