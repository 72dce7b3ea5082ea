"""Several referents per scene, relations with a direction, test groups."""
import json
import os
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from sgsrf_mmseg.datasets import generate_synthetic_dataset
from sgsrf_mmseg.datasets.synthetic.layout import (REFERENTS_PER_SCENE,
                                                   referent_count, scene_ids)
from sgsrf_mmseg.datasets.synthetic.marker import read_marker
from sgsrf_mmseg.datasets.synthetic.params import GeneratorParams
from sgsrf_mmseg.datasets.synthetic.queries import Query, SceneObject, resolve
from sgsrf_mmseg.datasets.synthetic.referents import TAGS
from sgsrf_mmseg.datasets.synthetic.scene import generate_scene

init_default_scope('mmseg')
COUNTS = dict(num_train=12, num_val=3, num_test=40, image_size=64, seed=11)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('referents'))
    generate_synthetic_dataset(path, **COUNTS)
    return path


def _info(root):
    with open(osp.join(root, 'synthetic_info.json')) as f:
        return json.load(f)


def _tags(root, split):
    with open(osp.join(root, f'output_phrase_{split}.tags.json')) as f:
        content = json.load(f)
    assert content['format'] == 1
    return content['tags']


def _scenes(split, num, size=96, seed=0):
    params = GeneratorParams(seed=seed, image_size=size)
    for i in range(num):
        rng = np.random.default_rng([seed, 2 if split == 'test' else 0, i])
        yield generate_scene(rng, size, split,
                             referent_count(params, split, i))


@pytest.mark.parametrize('split,size', [('train', 96), ('test', 64)])
def test_every_expression_resolves_to_exactly_its_mask(split, size):
    plans = Counter()
    for scene in _scenes(split, 60, size):
        objects = scene.objects
        plans[scene.record['plan']] += 1
        union = np.zeros(scene.masks[0].shape, bool)
        for referent, mask in zip(scene.referents, scene.masks):
            targets = list(referent.targets)
            # the mask is exactly the targets' pixels, apart from the others
            assert np.count_nonzero(mask) == sum(objects[t].area
                                                 for t in targets) > 0
            assert not (union & (mask > 0)).any()
            union |= mask > 0
            combos = {(objects[t].colour, objects[t].kind) for t in targets}
            look_alike = any((o.colour, o.kind) in combos
                             for i, o in enumerate(objects)
                             if i not in targets)
            assert 1 <= len(referent.expressions) <= 2
            for expression in referent.expressions:
                assert resolve(expression.query, objects,
                               size) == targets, expression.phrase.text
                tags = expression.tags
                assert ('relation' in tags) == (
                    expression.query.relation is not None)
                assert ('same_image_other_referent' in tags) == (
                    len(scene.referents) > 1)
                assert ('look_alike' in tags) == look_alike
    assert set(plans) == {'role_reversal', 'between', 'plain'}


def test_role_reversal_pairs_need_the_head_noun():
    pairs = needed = 0
    for scene in _scenes('train', 80):
        if scene.record['plan'] != 'role_reversal':
            continue
        first, second = (r.expressions[0] for r in scene.referents[:2])
        assert sorted(first.phrase.words) == sorted(second.phrase.words)
        assert first.phrase.text != second.phrase.text
        assert scene.referents[0].targets != scene.referents[1].targets
        assert 'role_reversal' in first.tags and 'role_reversal' in second.tags
        a, b = first.query, second.query
        assert (a.relation, b.relation) == ('next to', 'next to')
        assert (a.landmark, b.landmark) == (Query(b.kind, b.colour),
                                            Query(a.kind, a.colour))
        # with a look-alike of A, "the ca ka" alone names no single object
        if resolve(Query(a.kind, a.colour), scene.objects, 96) is None:
            needed += 1
        pairs += 1
    assert pairs >= 10 and needed >= 3


def _obj(kind, colour, x0, y0, x1, y1):
    return SceneObject(kind, colour, (x0, y0, x1, y1),
                       (x1 - x0 + 1) * (y1 - y0 + 1))


WHITE_BUILDING = _obj('building', 'white', 10, 50, 35, 75)
BLUE_POND = _obj('pond', 'blue', 90, 50, 115, 75)
BETWEEN = Query(
    'vehicle',
    'red',
    relation='between',
    landmark=Query('building', 'white'),
    landmark2=Query('pond', 'blue'))


def test_between_selects_the_object_between_its_landmarks():
    middle = _obj('vehicle', 'red', 55, 58, 70, 66)
    outside = _obj('vehicle', 'red', 40, 5, 55, 13)  # far above the axis
    beyond = _obj('vehicle', 'red', 118, 60, 125, 66)  # past the pond
    objects = [WHITE_BUILDING, BLUE_POND, middle, outside, beyond]
    assert resolve(BETWEEN, objects, 128) == [2]
    # the landmarks in the other order name the same object
    swapped = BETWEEN._replace(
        landmark=BETWEEN.landmark2, landmark2=BETWEEN.landmark)
    assert resolve(swapped, objects, 128) == [2]
    # a diagonal axis
    low_pond = _obj('pond', 'blue', 90, 95, 115, 120)
    diagonal = _obj('vehicle', 'red', 57, 78, 67, 86)
    assert resolve(BETWEEN, [WHITE_BUILDING, low_pond, diagonal], 128) == [2]
    assert resolve(BETWEEN, [WHITE_BUILDING, low_pond, middle], 128) is None


@pytest.mark.parametrize(
    'objects',
    [
        # two red vehicles between them: "the red car" is singular
        [
            WHITE_BUILDING, BLUE_POND,
            _obj('vehicle', 'red', 45, 58, 55, 66),
            _obj('vehicle', 'red', 65, 58, 75, 66)
        ],
        # at the corridor's edge: too close to call
        [WHITE_BUILDING, BLUE_POND,
         _obj('vehicle', 'red', 55, 75, 70, 82)],
        # overlapping the gap's end: too close to call
        [WHITE_BUILDING, BLUE_POND,
         _obj('vehicle', 'red', 34, 58, 44, 66)],
        # two white buildings: the landmark is not one object
        [
            WHITE_BUILDING, BLUE_POND,
            _obj('building', 'white', 50, 100, 70, 120),
            _obj('vehicle', 'red', 55, 58, 70, 66)
        ],
    ],
    ids=['two_targets', 'corridor_edge', 'gap_end', 'two_landmarks'])
def test_between_refuses_ambiguous_scenes(objects):
    assert resolve(BETWEEN, objects, 128) is None


def test_next_to_reads_several_look_alike_landmarks():
    near = _obj('building', 'white', 10, 10, 30, 30)
    far = _obj('building', 'white', 90, 90, 110, 110)
    car = _obj('vehicle', 'red', 34, 12, 44, 18)  # 3 px from `near`
    twin = _obj('vehicle', 'red', 60, 40, 70, 46)  # far from both
    query = Query(
        'vehicle',
        'red',
        relation='next to',
        landmark=Query('building', 'white'))
    assert resolve(query, [near, far, car, twin], 128) == [2]
    # the reversed query needs no single landmark either
    reverse = Query(
        'building',
        'white',
        relation='next to',
        landmark=Query('vehicle', 'red'))
    assert resolve(reverse, [near, far, car, twin], 128) == [0]
    # a look-alike at the "next to" threshold makes it unsure
    unsure = _obj('vehicle', 'red', 86, 72, 96, 80)  # 10 px from `far`
    assert resolve(query, [near, far, car, unsure], 128) is None
    # a directional relation still needs one landmark
    left = query._replace(relation='left of')
    assert resolve(left, [near, far, car, twin], 128) is None


def test_scene_ids_are_consecutive_with_mostly_two_or_three_referents():
    params = GeneratorParams()
    ids = scene_ids(params)
    flat = [
        name for split in ids.values() for scene in split for name in scene
    ]
    assert flat == [str(i) for i in range(len(flat))]
    sizes = Counter(len(scene) for split in ids.values() for scene in split)
    assert set(sizes) == set(REFERENTS_PER_SCENE)
    total = sum(sizes.values())
    assert total == 3600
    for count, share in REFERENTS_PER_SCENE.items():
        assert abs(sizes[count] / total - share) < 0.03


def test_ids_of_a_scene_share_the_image(root):
    info = _info(root)
    shared = 0
    for split in ('train', 'val', 'test'):
        for ids in info['splits'][split]['scene_ids']:
            paths = [osp.join(root, 'images', f'{i}.tif') for i in ids]
            stats = [os.stat(p) for p in paths]
            assert len({s.st_ino for s in stats}) == 1  # hard links
            shared += len(ids) - 1
    assert shared > 0


def test_image_copies_where_links_are_refused(tmp_path, monkeypatch):

    def refuse(source, target):
        raise PermissionError(1, 'links not allowed', target)

    monkeypatch.setattr(os, 'link', refuse)
    path = str(tmp_path / 'copied')
    info = generate_synthetic_dataset(
        path, num_train=3, num_val=1, num_test=1, image_size=64)
    multi = [
        ids for split in info['splits'].values() for ids in split['scene_ids']
        if len(ids) > 1
    ]
    assert multi
    for ids in multi:
        paths = [osp.join(path, 'images', f'{i}.tif') for i in ids]
        contents = set()
        for p in paths:
            with open(p, 'rb') as f:
                contents.add(f.read())
        assert len(contents) == 1
        assert len({os.stat(p).st_ino for p in paths}) == len(ids)


def test_the_marker_lists_every_file_written(root):
    written = set()
    for folder, _, files in os.walk(root):
        written |= {
            osp.relpath(osp.join(folder, name), root).replace(os.sep, '/')
            for name in files
        }
    own = {'synthetic_info.json', '.generate.lock'}
    assert written - own == set(read_marker(root)['files'])


def test_every_test_group_is_counted(root):
    stats = _info(root)['splits']['test']
    tags = _tags(root, 'test')
    recount = Counter(tag for by_text in tags.values()
                      for groups in by_text.values() for tag in groups)
    assert stats['expression_groups'] == {tag: recount[tag] for tag in TAGS}
    assert all(recount[tag] > 0 for tag in TAGS), recount
    assert stats['expression_types'].get('between', 0) > 0
    assert stats['expression_types'].get('relation', 0) > 0
    assert stats['held_out_target_ids']
    assert sum(stats['expression_groups'].values()) > 0
    assert stats['expressions'] == sum(len(v) for v in tags.values())
