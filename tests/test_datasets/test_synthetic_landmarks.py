"""The landmark boxes the generator writes, read back and drawn."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from sgsrf_mmseg.datasets import (SyntheticRefSegRSDataset,
                                  generate_synthetic_dataset)
from sgsrf_mmseg.datasets.synthetic.dataset import read_landmarks
from sgsrf_mmseg.datasets.synthetic.queries import (Query, SceneObject,
                                                    landmark_objects)

init_default_scope('mmseg')
COUNTS = dict(num_train=30, num_val=4, num_test=30, image_size=64, seed=5)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('landmarks'))
    generate_synthetic_dataset(path, **COUNTS)
    return path


def _mask_box(root, name):
    mask = cv2.imread(osp.join(root, 'masks', f'{name}.tif'), 0)
    ys, xs = np.nonzero(mask)
    return (xs.min(), ys.min(), xs.max(), ys.max())


def _tags(root, split):
    with open(osp.join(root, f'output_phrase_{split}.tags.json')) as f:
        return json.load(f)['tags']


def test_role_reversal_landmarks_are_the_partners_targets(root):
    """In a role-reversal pair each one's landmark is the other's target."""
    pairs = 0
    for split in ('train', 'test'):
        landmarks = read_landmarks(
            osp.join(root, f'output_phrase_{split}.landmarks.json'))
        tags = _tags(root, split)
        reversed_ids = sorted(
            (int(name) for name, by_text in tags.items()
             if any('role_reversal' in t for t in by_text.values())))
        # the pair are a scene's first two referents: consecutive ids
        for first, second in zip(reversed_ids[::2], reversed_ids[1::2]):
            assert second == first + 1
            for name, partner in ((first, second), (second, first)):
                boxes = [
                    b for text, b in landmarks[str(name)].items()
                    if 'role_reversal' in tags[str(name)][text]
                ]
                assert boxes and boxes[0] == (_mask_box(root, partner), )
            pairs += 1
    assert pairs >= 3


def test_only_relations_have_landmarks_and_between_has_two(root):
    landmarks = read_landmarks(
        osp.join(root, 'output_phrase_train.landmarks.json'))
    tags = _tags(root, 'train')
    counts = set()
    for name, by_text in landmarks.items():
        for text, boxes in by_text.items():
            related = 'relation' in tags[name][text]
            assert bool(boxes) == related, text
            if ' between ' in f' {text} ':
                assert len(boxes) == 2, text
            counts.add(len(boxes))
            for x0, y0, x1, y1 in boxes:
                assert 0 <= x0 <= x1 < 64 and 0 <= y0 <= y1 < 64
    assert {0, 1, 2} <= counts


def _box_object(kind, colour, x, y):
    return SceneObject(kind, colour, (x, y, x + 7, y + 7), 64)


def test_landmark_objects_follow_the_query():
    car = _box_object('car', 'red', 10, 60)
    building = _box_object('building', 'white', 20, 60)  # right of the car
    far_building = _box_object('building', 'white', 100, 10)
    objects = [car, building, far_building]
    # a plain landmark of "next to": the building next to the car, not the
    # other building of its description
    next_to = Query(
        'car', 'red', relation='next to', landmark=Query('building', 'white'))
    assert landmark_objects(next_to, [0], objects, 128) == [1]
    left_of = Query(
        'car', relation='left of', landmark=Query('building', cell=(0, 1)))
    assert landmark_objects(left_of, [0], objects, 128) == [1]
    assert landmark_objects(Query('car', 'red'), [0], objects, 128) == []


def test_the_dataset_gives_each_sentence_its_boxes(root):
    test = SyntheticRefSegRSDataset(
        data_root=root,
        generator=COUNTS,
        split='test',
        test_mode=True,
        pipeline=[])
    landmarks = read_landmarks(
        osp.join(root, 'output_phrase_test.landmarks.json'))
    with_boxes = 0
    for i in range(len(test)):
        info = test.get_data_info(i)
        assert info['landmark_boxes'] == landmarks[str(
            info['image_id'])][info['text']]
        with_boxes += bool(info['landmark_boxes'])
    assert with_boxes > 0


@pytest.mark.parametrize('box',
                         [[3, 2, 1, 5], [0, 0, 4], 'abc', [-1, 0, 2, 2]])
def test_a_bad_box_is_refused_with_the_file(tmp_path, box):
    path = str(tmp_path / 'output_phrase_val.landmarks.json')
    with open(path, 'w') as f:
        json.dump({'format': 1, 'landmarks': {'0': {'the car': [box]}}}, f)
    with pytest.raises(ValueError) as info:
        read_landmarks(path)
    assert path in str(info.value) and 'generate the dataset again' in str(
        info.value)
