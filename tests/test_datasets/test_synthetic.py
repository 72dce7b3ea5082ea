import filecmp
import json
import os
import os.path as osp
import re
from collections import Counter

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from sgsrf_mmseg.datasets import (RefSegRSDataset, SyntheticRefSegRSDataset,
                                  ensure_synthetic_dataset,
                                  generate_synthetic_dataset)
from sgsrf_mmseg.datasets.synthetic.queries import Query, SceneObject, resolve
from sgsrf_mmseg.datasets.synthetic.referents import TAGS
from sgsrf_mmseg.datasets.synthetic.vocabulary import KIND_WORDS

init_default_scope('mmseg')
COUNTS = dict(num_train=40, num_val=6, num_test=40, image_size=64, seed=3)


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, **COUNTS)
    return root


def _mentions(text, colour, kind):
    words = '|'.join(KIND_WORDS[kind])
    return re.search(rf'\b{colour} ({words})s?\b', text) is not None


def _info(root):
    with open(osp.join(root, 'synthetic_info.json')) as f:
        return json.load(f)


def _ids(info):
    """Every id of the dataset, over its splits' scenes."""
    return [
        name for split in info['splits'].values() for ids in split['scene_ids']
        for name in ids
    ]


def test_deterministic(synthetic_root, tmp_path):
    other = str(tmp_path / 'again')
    generate_synthetic_dataset(other, **COUNTS)
    last = _ids(_info(synthetic_root))[-1]
    names = [
        'output_phrase_train.txt', 'output_phrase_test.txt',
        'output_phrase_test.gold_parses.json', 'output_phrase_test.tags.json',
        'images/0.tif', 'masks/0.tif', f'images/{last}.tif',
        f'masks/{last}.tif'
    ]
    match, mismatch, errors = filecmp.cmpfiles(
        synthetic_root, other, names, shallow=False)
    assert match == names, (mismatch, errors)


def test_layout_and_info(synthetic_root):
    for split in ('train', 'val', 'test'):
        assert osp.isfile(
            osp.join(synthetic_root, f'output_phrase_{split}.txt'))
    info = _info(synthetic_root)
    ids = _ids(info)
    # one image and one mask per referent; 1-3 referents per scene
    assert ids == [str(i) for i in range(len(ids))]
    for folder in ('images', 'masks'):
        assert sorted(os.listdir(osp.join(synthetic_root, folder))) == \
            sorted(f'{i}.tif' for i in ids)
    for split, num in (('train', 40), ('val', 6), ('test', 40)):
        scenes = info['splits'][split]['scene_ids']
        assert len(scenes) == info['splits'][split]['scenes'] == num
        assert {len(s) for s in scenes} <= {1, 2, 3}
        assert info['splits'][split]['referents'] == sum(map(len, scenes))
    assert len(ids) > 2 * 86
    assert info['params']['num_train'] == 40
    held_out = [tuple(c) for c in info['held_out_combos']]
    assert held_out
    splits = info['splits']
    for split in ('train', 'val'):
        drawn = {tuple(c) for c in splits[split]['object_combos']}
        assert not drawn & set(held_out)
    test_targets = {tuple(c) for c in splits['test']['target_combos']}
    assert test_targets & set(held_out)
    with open(osp.join(synthetic_root, 'output_phrase_train.txt')) as f:
        train_lines = f.read().splitlines()
    with open(osp.join(synthetic_root, 'output_phrase_test.txt')) as f:
        test_lines = f.read().splitlines()
    for colour, kind in held_out:
        assert not any(_mentions(line, colour, kind) for line in train_lines)
    assert any(
        _mentions(line, c, k) for line in test_lines for c, k in held_out)


def test_read_back_with_pipeline(synthetic_root):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadReferringMask'),
        dict(type='Resize', scale=(48, 48)),
        dict(
            type='TextAwareRandomFlip',
            prob=0.5,
            direction=['horizontal', 'vertical']),
        dict(type='PackReferringInputs')
    ]
    train = RefSegRSDataset(
        data_root=synthetic_root, split='train', pipeline=pipeline)
    assert len(train) == _info(synthetic_root)['splits']['train']['referents']
    sample = train[0]
    assert sample['inputs'].shape == (3, 48, 48)
    assert sample['data_samples'].gt_sem_seg.data.shape == (1, 48, 48)
    assert sample['data_samples'].metainfo['text']
    test = RefSegRSDataset(
        data_root=synthetic_root,
        split='test',
        test_mode=True,
        pipeline=pipeline[:2])
    assert len(test) == _info(synthetic_root)['splits']['test']['expressions']
    for i in range(len(test)):
        out = test[i]
        assert out['gt_seg_map'].shape == (64, 64)
        assert out['gt_seg_map'].sum() > 0, out['text']
        assert set(np.unique(out['gt_seg_map'])) == {0, 1}


def test_ensure_reuses_or_regenerates(tmp_path):
    root = str(tmp_path / 's')
    small = dict(num_train=4, num_val=2, num_test=2, image_size=64)
    ensure_synthetic_dataset(root, **small)
    stamp = os.stat(osp.join(root, 'images', '0.tif')).st_mtime_ns
    ensure_synthetic_dataset(root, **small)
    assert os.stat(osp.join(root, 'images', '0.tif')).st_mtime_ns == stamp
    info = ensure_synthetic_dataset(root, **dict(small, num_train=5))
    assert info['params']['num_train'] == 5
    assert len(info['splits']['train']['scene_ids']) == 5
    assert len(os.listdir(osp.join(root, 'images'))) == len(_ids(info))


def test_resolve_refuses_ambiguity():
    car = SceneObject('vehicle', 'red', (10, 10, 20, 16), 60)
    car2 = SceneObject('vehicle', 'red', (100, 100, 110, 106), 60)
    tank = SceneObject('storage tank', 'white', (60, 60, 80, 80), 400)
    objects = [car, car2, tank]
    assert resolve(Query('vehicle', 'red'), objects, 128) is None
    assert resolve(Query('vehicle', 'red', group=True), objects, 128) == [0, 1]
    assert resolve(Query('vehicle', cell=(0, None)), objects, 128) == [0]
    assert resolve(Query('storage tank'), objects, 128) == [2]
    # a vehicle whose centre sits on the left/centre border is ambiguous
    edge = SceneObject('vehicle', 'blue', (38, 100, 48, 106), 60)
    assert resolve(Query('vehicle', cell=(0, None)), [car, edge], 128) is None


def test_find_missing_files_is_empty(tmp_path):
    root = str(tmp_path / 'not_yet')
    assert SyntheticRefSegRSDataset.find_missing_files(
        data_root=root, split='train', generator=dict(num_train=2)) == []
    assert not osp.exists(root)  # nothing is generated by the check


def test_samples_say_whether_their_pair_was_held_out(synthetic_root):
    test = SyntheticRefSegRSDataset(
        data_root=synthetic_root,
        generator=COUNTS,
        split='test',
        test_mode=True,
        pipeline=[])
    train = SyntheticRefSegRSDataset(
        data_root=synthetic_root, generator=COUNTS, split='train', pipeline=[])
    with open(osp.join(synthetic_root, 'synthetic_info.json')) as f:
        held_out = set(json.load(f)['splits']['test']['held_out_target_ids'])
    assert held_out
    test_categories = {
        str(test.get_data_info(i)['image_id']):
        test.get_data_info(i)['category']
        for i in range(len(test))
    }
    for image_id, category in test_categories.items():
        assert category == ('held_out_pair'
                            if image_id in held_out else 'seen_pair')
    assert {train.get_data_info(i)['category']
            for i in range(len(train))} == {'seen_pair'}


@pytest.mark.slow
def test_same_files_whatever_the_hash_seed(tmp_path):
    """Generation must not depend on set order (PYTHONHASHSEED)."""
    import subprocess
    import sys
    code = ('import sys; from sgsrf_mmseg.datasets import '
            'generate_synthetic_dataset as g; '
            'g(sys.argv[1], num_train=30, num_val=2, num_test=6, '
            'image_size=64, seed=5)')
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for seed in ('1', '2'):
        subprocess.run([sys.executable, '-c', code,
                        str(tmp_path / seed)],
                       check=True,
                       cwd=repo,
                       env=dict(os.environ, PYTHONHASHSEED=seed))
    for name in ('output_phrase_train.txt', 'output_phrase_test.txt',
                 'output_phrase_train.tags.json',
                 'output_phrase_train.gold_parses.json',
                 'synthetic_info.json'):
        assert filecmp.cmp(
            tmp_path / '1' / name, tmp_path / '2' / name, shallow=False), name


def _tags(root, split):
    with open(osp.join(root, f'output_phrase_{split}.tags.json')) as f:
        content = json.load(f)
    assert content['format'] == 1
    return content['tags']


PIPELINE = [dict(type='PackReferringInputs')]


def test_tags_reach_the_metainfo(synthetic_root):
    tags = _tags(synthetic_root, 'test')
    test = SyntheticRefSegRSDataset(
        data_root=synthetic_root,
        generator=COUNTS,
        split='test',
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadReferringMask'), *PIPELINE
        ])
    seen = Counter()
    assert len(test) == _info(synthetic_root)['splits']['test']['expressions']
    for i in range(len(test)):
        meta = test[i]['data_samples'].metainfo
        assert meta['tags'] == tuple(tags[meta['image_id']][meta['text']])
        seen.update(meta['tags'])
    assert all(seen[tag] > 0 for tag in TAGS)
    train = SyntheticRefSegRSDataset(
        data_root=synthetic_root, generator=COUNTS, split='train', pipeline=[])
    train_tags = _tags(synthetic_root, 'train')
    for i in range(len(train)):
        for _ in range(3):  # a sentence picked per read, with its tags
            info = train.get_data_info(i)
            assert info['tags'] == tuple(
                train_tags[info['image_id']][info['text']])
    # a real dataset gives no tags
    real = RefSegRSDataset(
        data_root=synthetic_root, split='test', test_mode=True, pipeline=[])
    assert 'tags' not in real.get_data_info(0)


@pytest.mark.parametrize('name,key,field', [
    ('tags', 'tags', 'tags'),
    ('landmarks', 'landmarks', 'landmark_boxes'),
])
def test_a_per_expression_file_that_lacks_an_expression_is_named(
        synthetic_root, tmp_path, name, key, field):
    import shutil
    copy = str(tmp_path / 'copy')
    shutil.copytree(synthetic_root, copy)
    path = osp.join(copy, f'output_phrase_val.{name}.json')
    with open(path) as f:
        content = json.load(f)
    ident = sorted(content[key])[0]
    text = sorted(content[key][ident])[0]
    del content[key][ident][text]
    with open(path, 'w') as f:
        json.dump(content, f)
    with pytest.raises(ValueError) as info:
        SyntheticRefSegRSDataset(
            data_root=copy, generator=COUNTS, split='val', pipeline=[])
    assert f'{path} has no {field} for id {ident}' in str(info.value)
    assert repr(text) in str(info.value)
