"""Gold dependency trees of the synthetic expressions."""
import json
import os.path as osp

import pytest

from sgsrf_mmseg.datasets import generate_synthetic_dataset
from sgsrf_mmseg.datasets.synthetic.phrasing import phrase
from sgsrf_mmseg.datasets.synthetic.queries import Query
from sgsrf_mmseg.utils.dependency_parse import DependencyParse

LABELS = {
    'det', 'amod', 'compound', 'nummod', 'predet', 'prep', 'pobj', 'advmod',
    'cc', 'conj', 'ROOT'
}


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_parses'))
    generate_synthetic_dataset(
        root, num_train=80, num_val=10, num_test=40, image_size=96, seed=7)
    return root


def check_tree(text, parse):
    words, heads = parse.words, parse.heads
    assert parse.text == text
    assert list(words) == text.split(' ')
    assert len(heads) == len(parse.deps) == len(words)
    roots = [i for i, h in enumerate(heads) if h == i]
    assert len(roots) == 1, text
    assert [i for i, d in enumerate(parse.deps) if d == 'ROOT'] == roots
    assert set(parse.deps) <= LABELS, text
    for i in range(len(words)):  # every word reaches the root, no cycle
        seen = {i}
        while heads[i] != i:
            i = heads[i]
            assert i not in seen, f'cycle in {text!r}'
            seen.add(i)


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_every_expression_has_a_gold_tree(synthetic_root, split):
    with open(osp.join(synthetic_root, f'output_phrase_{split}.txt')) as f:
        texts = {line.rstrip('\n').split(' ', 1)[1] for line in f}
    with open(
            osp.join(synthetic_root,
                     f'output_phrase_{split}.gold_parses.json')) as f:
        gold = json.load(f)
    assert gold['format'] == 1 and gold['parser'] == 'gold'
    assert set(gold['parses']) == texts
    for text, parse in gold['parses'].items():
        check_tree(text, DependencyParse.from_dict(parse, text))


class ScriptedChoices:
    """Stands in for the random generator with the draws a test names."""

    def __init__(self, integers=(), randoms=()):
        self.integers_left = list(integers)
        self.randoms_left = list(randoms)

    def integers(self, high):
        value = self.integers_left.pop(0)
        assert value < high
        return value

    def random(self):
        return self.randoms_left.pop(0)


RED_BUILDING = Query('building', 'red')
HAND_CHECKED = [
    # (query, count, integer draws, random draws, text, heads, deps)
    (Query('vehicle', 'red',
           cell=(0, 0)), None, [1, 0], [], 'the red car at the top left',
     [2, 2, 2, 2, 6, 6,
      3], ['det', 'amod', 'ROOT', 'prep', 'det', 'amod', 'pobj']),
    (Query('storage tank'), None, [0], [], 'the storage tank', [2, 2, 2],
     ['det', 'compound', 'ROOT']),
    (Query('vehicle', 'red', group=True), 5, [0, 0], [], 'all red vehicles',
     [2, 2, 2], ['predet', 'amod', 'ROOT']),
    (Query('storage tank', group=True), 3, [0, 1], [0.5],
     'all the storage tanks', [3, 3, 3,
                               3], ['predet', 'det', 'compound', 'ROOT']),
    (Query('vehicle', 'red', group=True), 2, [0], [0.1],
     'the two red vehicles', [3, 3, 3, 3], ['det', 'nummod', 'amod', 'ROOT']),
    (Query('vehicle', relation='next to', landmark=RED_BUILDING), None, [1, 0],
     [], 'the car next to the red building', [1, 1, 1, 2, 6, 6, 3],
     ['det', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj']),
    (Query('pond', size='large'), None, [0], [], 'the large pond', [2, 2, 2],
     ['det', 'amod', 'ROOT']),
    (Query('vehicle', relation='left of',
           landmark=Query('building')), None, [1, 0], [0.2],
     'the car to the left of the building', [1, 1, 1, 4, 2, 4, 7, 5],
     ['det', 'ROOT', 'prep', 'det', 'pobj', 'prep', 'det', 'pobj']),
    (Query('vehicle', relation='right of', landmark=Query('building')), None,
     [0, 0], [0.7], 'the vehicle right of the building', [1, 1, 1, 2, 5, 3],
     ['det', 'ROOT', 'advmod', 'prep', 'det', 'pobj']),
    (Query('storage tank', 'white', cell=(2, 2)), None, [1, 1], [],
     'the white tank in the bottom right corner', [2, 2, 2, 2, 7, 6, 7, 3],
     ['det', 'amod', 'ROOT', 'prep', 'det', 'amod', 'amod', 'pobj']),
    (Query('pond', cell=(None, 2)), None, [0, 1], [],
     'the pond at the bottom of the image', [1, 1, 1, 4, 2, 4, 7, 5],
     ['det', 'ROOT', 'prep', 'det', 'pobj', 'prep', 'det', 'pobj']),
    (Query('building',
           cell=(0, None)), None, [0, 1], [], 'the building on the left side',
     [1, 1, 1, 5, 5, 2], ['det', 'ROOT', 'prep', 'det', 'amod', 'pobj']),
    (Query('vehicle', 'black', relation='above', landmark=Query('pond')), None,
     [0, 0], [], 'the black vehicle above the pond', [2, 2, 2, 2, 5, 3],
     ['det', 'amod', 'ROOT', 'prep', 'det', 'pobj']),
    (Query('storage tank', 'red', relation='left of',
           landmark=RED_BUILDING), None, [1, 0], [0.7],
     'the red tank left of the red building', [2, 2, 2, 2, 3, 7, 7, 4],
     ['det', 'amod', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj']),
    (Query(
        'vehicle',
        'red',
        relation='between',
        landmark=Query('building', 'white'),
        landmark2=Query('pond', 'blue')), None, [1, 0, 0], [],
     'the red car between the white building and the blue pond',
     [2, 2, 2, 2, 6, 6, 3, 6, 10, 10, 6], [
         'det', 'amod', 'ROOT', 'prep', 'det', 'amod', 'pobj', 'cc', 'det',
         'amod', 'conj'
     ]),
    (Query(
        'pond',
        relation='between',
        landmark=Query('storage tank'),
        landmark2=Query('vehicle', 'grey')), None, [0, 0, 1], [],
     'the pond between the storage tank and the grey car',
     [1, 1, 1, 5, 5, 2, 5, 9, 9, 5], [
         'det', 'ROOT', 'prep', 'det', 'compound', 'pobj', 'cc', 'det', 'amod',
         'conj'
     ]),
]


@pytest.mark.parametrize(
    'query,count,integers,randoms,text,heads,deps',
    HAND_CHECKED,
    ids=[c[4] for c in HAND_CHECKED])
def test_hand_checked_trees(query, count, integers, randoms, text, heads,
                            deps):
    choices = ScriptedChoices(integers, randoms)
    result = phrase(query, choices, count)
    assert result.text == text
    assert list(result.heads) == heads
    assert list(result.deps) == deps
    assert not choices.integers_left and not choices.randoms_left
    check_tree(text, result.to_parse())


def test_a_role_reversal_pair_has_the_same_words_and_another_head():
    car = Query('vehicle', 'red', relation='next to', landmark=RED_BUILDING)
    building = Query(
        'building',
        'red',
        relation='next to',
        landmark=Query('vehicle', 'red'))
    nouns = {'vehicle': 'car', 'building': 'building'}
    first = phrase(car, ScriptedChoices(), nouns=nouns)
    second = phrase(building, ScriptedChoices(), nouns=nouns)
    assert first.text == 'the red car next to the red building'
    assert second.text == 'the red building next to the red car'
    assert sorted(first.words) == sorted(second.words)
    assert first.words[first.root] == 'car'
    assert second.words[second.root] == 'building'
    for result in (first, second):
        check_tree(result.text, result.to_parse())


def test_generated_role_reversal_pairs(synthetic_root):
    """Each tagged pair: two ids of one scene, same words, other targets."""
    import cv2
    with open(osp.join(synthetic_root, 'synthetic_info.json')) as f:
        scenes = json.load(f)['splits']['test']['scene_ids']
    with open(osp.join(synthetic_root, 'output_phrase_test.tags.json')) as f:
        tags = json.load(f)['tags']
    with open(osp.join(synthetic_root,
                       'output_phrase_test.gold_parses.json')) as f:
        gold = json.load(f)['parses']
    pairs = 0
    for ids in scenes:
        tagged = [(name, text) for name in ids
                  for text, groups in tags[name].items()
                  if 'role_reversal' in groups]
        for name, text in tagged:
            partners = [(other, t) for other, t in tagged if other != name
                        and sorted(t.split(' ')) == sorted(text.split(' '))]
            assert partners, text
            other, other_text = partners[0]
            masks = [
                cv2.imread(
                    osp.join(synthetic_root, 'masks', f'{i}.tif'),
                    cv2.IMREAD_UNCHANGED) > 0 for i in (name, other)
            ]
            assert masks[0].any() and masks[1].any()
            assert not (masks[0] & masks[1]).any(), (text, other_text)
            parses = [
                DependencyParse.from_dict(gold[t], t)
                for t in (text, other_text)
            ]
            for t, parse in zip((text, other_text), parses):
                check_tree(t, parse)
            roots = [
                p.words[i] for p in parses for i, h in enumerate(p.heads)
                if h == i
            ]
            assert roots[0] != roots[1], (text, other_text)
            pairs += 1
    assert pairs >= 4
