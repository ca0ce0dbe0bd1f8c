"""Under DDP each rank runs the teacher on its shard of the phase only, and
every rank ends with the whole cache of a single process."""
import os
import os.path as osp
import sys

import torch
import torch.multiprocessing as mp
from tool_runner import REPO, free_port

TESTS = osp.join(REPO, 'tests')


def _teacher_and_dataset(root):
    """The same teacher (seeded) and phase dataset in every process."""
    from mmengine.registry import init_default_scope
    from tiny_model import tiny_predictor_cfg

    from had_mm.datasets import NYUv2MultiTaskDataset
    from had_mm.registry import MODELS
    init_default_scope('had_mm')
    torch.manual_seed(0)
    teacher = MODELS.build(tiny_predictor_cfg(('semantic', 'depth')))
    dataset = NYUv2MultiTaskDataset(
        root,
        split='train',
        tasks=['normal'],
        indices=7,  # odd: uneven shards
        pipeline=[
            dict(type='LoadMultiTaskImage'),
            dict(type='LoadMultiTaskAnnotations'),
            dict(type='MultiTaskRandomFlip', prob=0.5),
            dict(type='PackMultiTaskInputs')
        ])
    images = []
    extract = teacher.extract_feat

    def counting(inputs):  # what the teacher ran on
        images.append(inputs.shape[0])
        return extract(inputs)

    teacher.extract_feat = counting
    return teacher, dataset, images


def _rank(rank, world_size, port, root, out):
    sys.path.insert(0, TESTS)
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', rank=rank, world_size=world_size)
    from had_mm.engine.loops.pseudo_label_cache import build_phase_cache
    teacher, dataset, images = _teacher_and_dataset(root)
    cache = build_phase_cache(
        teacher, ['semantic', 'depth'], dataset, batch_size=2)
    torch.save(
        dict(index=cache.index, outputs=cache.outputs, images=sum(images)),
        osp.join(out, f'rank{rank}.pth'))
    torch.distributed.destroy_process_group()


def test_each_rank_computes_its_shard_and_holds_the_whole_cache(
        synthetic_rooms_root, tmp_path):
    from had_mm.engine.loops.pseudo_label_cache import build_phase_cache
    teacher, dataset, images = _teacher_and_dataset(synthetic_rooms_root)
    ref = build_phase_cache(
        teacher, ['semantic', 'depth'], dataset, batch_size=2)
    assert sum(images) == 7 and len(ref) == 7
    mp.spawn(
        _rank,
        args=(2, free_port(), synthetic_rooms_root, str(tmp_path)),
        nprocs=2,
        join=True)
    for rank in range(2):
        got = torch.load(str(tmp_path / f'rank{rank}.pth'))
        # half the teacher passes: images 0, 2, 4, 6 and 1, 3, 5
        assert got['images'] == (4 if rank == 0 else 3)
        assert set(got['index']) == set(ref.index)
        for task in ('semantic', 'depth'):
            for key, row in ref.index.items():
                torch.testing.assert_close(
                    got['outputs'][task][got['index'][key]],
                    ref.outputs[task][row],
                    msg=f'{task} {key}')
