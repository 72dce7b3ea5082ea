import os.path as osp

import numpy as np
import pytest
import spacy

from sgsrf_mmseg.datasets import (PackReferringInputs, RefSegRSDataset,
                                  ReplaceExpression, RRSISDDataset,
                                  TextAwareRandomFlip)
from sgsrf_mmseg.datasets.text_parse import read_parse_file
from sgsrf_mmseg.datasets.transforms.text_flip import \
    swap_parse_direction_words
from sgsrf_mmseg.utils.dependency_parse import DependencyParse

NLP = spacy.blank('en')


def spacy_parse(text):
    """A parse with spaCy's words (flat heads: the flip keeps them)."""
    doc = NLP.make_doc(text)
    return DependencyParse(
        words=[t.text for t in doc],
        spaces=[bool(t.whitespace_) for t in doc],
        heads=list(range(len(doc))),
        deps=['dep'] * len(doc))


def test_dataset_attaches_the_parse_of_each_expression(refsegrs_root,
                                                       trained_parser):
    text_parser = dict(model=trained_parser)
    train = RefSegRSDataset(
        data_root=refsegrs_root, split='train', text_parser=text_parser)
    cache = osp.join(refsegrs_root, 'output_phrase_train.parses.json')
    assert train.text_parse_file == cache
    seen = set()
    for _ in range(6):  # training items pick one of their sentences
        for i in range(len(train)):
            info = train.get_data_info(i)
            assert info['text_parse'].text == info['text']
            seen.add(info['text'])
    expressions = {
        'the car on the left', 'vehicle near the road', 'the large building',
        'road along the river'
    }
    assert seen == expressions
    assert set(read_parse_file(cache)[1]) == expressions

    test = RefSegRSDataset(
        data_root=refsegrs_root,
        split='test',
        test_mode=True,
        text_parser=dict(
            text_parser,
            cache_file=str(osp.join(refsegrs_root, 'elsewhere', 'test.json'))))
    item = test.get_data_info(0)
    assert item['text_parse'].words == ('the', 'white', 'tank')
    assert not osp.exists(
        osp.join(refsegrs_root, 'output_phrase_test.parses.json'))

    plain = RefSegRSDataset(data_root=refsegrs_root, split='val')
    assert 'text_parse' not in plain.get_data_info(0)
    assert plain.text_parse_file is None


def test_rrsisd_cache_beside_the_refs(rrsisd_root, trained_parser):
    root, _ = rrsisd_root
    dataset = RRSISDDataset(
        data_root=root,
        split='test',
        test_mode=True,
        text_parser=dict(model=trained_parser))
    assert dataset.text_parse_file == osp.join(root, 'rrsisd',
                                               'refs(unc).parses.json')
    texts = [dataset.get_data_info(i)['text'] for i in range(len(dataset))]
    assert set(read_parse_file(dataset.text_parse_file)[1]) == set(texts)


@pytest.mark.parametrize('text_parser', [
    'en_core_web_sm',
    dict(cache_file='x.json'),
    dict(model='en_core_web_sm', batch=4)
])
def test_bad_text_parser_config(refsegrs_root, text_parser):
    with pytest.raises(ValueError, match='text_parser must be dict'):
        RefSegRSDataset(data_root=refsegrs_root, text_parser=text_parser)


def test_flip_keeps_the_parse_spelling_the_text(refsegrs_root, trained_parser):
    dataset = RefSegRSDataset(
        data_root=refsegrs_root,
        split='train',
        text_parser=dict(model=trained_parser),
        pipeline=[
            dict(type='LoadRasterImage'),
            dict(type='LoadReferringMask'),
            dict(type='TextAwareRandomFlip', prob=1.0, direction='horizontal'),
            dict(type='PackReferringInputs'),
        ])
    np.random.seed(0)
    texts = set()
    for _ in range(8):
        meta = dataset[0]['data_samples'].metainfo
        assert meta['text_parse'].text == meta['text']
        texts.add(meta['text'])
        if meta['text'] == 'the car on the right':
            assert meta['text_parse'].words[-1] == 'right'
            assert meta['text_parse'].heads[-1] == 2  # 'on'
    assert texts == {'the car on the right', 'vehicle near the road'}


@pytest.mark.parametrize('text,direction,expected', [
    ('the top-left tank', 'horizontal', 'the top-right tank'),
    ('the top-left tank above the Upper road', 'vertical',
     'the bottom-left tank below the Lower road'),
    ('the car (left) and the westernmost pond', 'diagonal',
     'the car (right) and the easternmost pond'),
    ("the car's left side, top/left", 'horizontal',
     "the car's right side, top/right"),
])
def test_swap_parse_direction_words(text, direction, expected):
    parse = spacy_parse(text)
    flipped = swap_parse_direction_words(parse, direction)
    assert flipped.text == expected
    assert parse.text == text  # the input is not modified
    assert (flipped.spaces, flipped.heads) == (parse.spaces, parse.heads)


def test_direction_word_across_words_is_refused():
    parse = DependencyParse(
        words=['the', 'le', 'ft'],
        spaces=[True, False, False],
        heads=[0, 1, 2],
        deps=['dep'] * 3)
    with pytest.raises(ValueError, match="'left' spans several words"):
        swap_parse_direction_words(parse, 'horizontal')


def test_flip_refuses_a_parse_of_another_text():
    results = dict(
        img=np.zeros((4, 6, 3), np.uint8),
        seg_fields=[],
        text='the car on the left',
        img_shape=(4, 6),
        text_parse=spacy_parse('the tank on the left'))
    with pytest.raises(ValueError, match='its words spell'):
        TextAwareRandomFlip(prob=1.0, direction='horizontal')(results)


def test_replace_expression_gives_the_empty_parse_and_pack_carries_it():
    results = dict(
        img=np.zeros((4, 6, 3), np.uint8),
        text='the car on the left',
        text_parse=spacy_parse('the car on the left'))
    results = ReplaceExpression()(results)
    assert results['text'] == ''
    assert results['text_parse'] == DependencyParse()
    packed = PackReferringInputs()(results)
    assert packed['data_samples'].metainfo['text_parse'].words == ()
