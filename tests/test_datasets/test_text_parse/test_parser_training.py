import filecmp
import json
import os
import os.path as osp
import random

import numpy as np
import pytest
import torch

from sgsrf_mmseg.datasets.text_parse import (evaluate_parser,
                                             load_spacy_pipeline, parse_texts,
                                             read_gold_parses,
                                             train_dependency_parser,
                                             write_parse_file)
from sgsrf_mmseg.utils.atomic_file import OutputExistsError


def attachment_accuracy(predicted, gold):
    """Share of words with the gold head (unlabelled) and label too."""
    total = heads = labels = 0
    for text, tree in gold.items():
        parse = predicted[text]
        assert parse.words == tree.words, text
        for k in range(len(tree.words)):
            total += 1
            if parse.heads[k] == tree.heads[k]:
                heads += 1
                labels += parse.deps[k] == tree.deps[k]
    return heads / total, labels / total


def test_trained_parser_parses_held_out_phrases(trained_parser, gold_held_out,
                                                gold_train):
    assert not set(gold_held_out) & set(gold_train)
    nlp = load_spacy_pipeline(trained_parser)
    texts = sorted(gold_held_out)
    predicted = dict(zip(texts, parse_texts(nlp, texts)))
    uas, las = attachment_accuracy(predicted, gold_held_out)
    # measured: 1.00 / 1.00 on the 10 held-out phrases (57 words)
    assert uas >= 0.9 and las >= 0.85, (uas, las)
    scores = evaluate_parser(nlp, gold_held_out)
    assert scores['num_texts'] == 10
    assert scores['uas'] == pytest.approx(uas)
    assert scores['las'] == pytest.approx(las)


def test_training_is_deterministic_for_a_seed(tmp_path, gold_train):
    runs = {}
    for name, seed in (('a', 0), ('b', 0), ('c', 1)):
        runs[name] = str(tmp_path / name)
        train_dependency_parser(
            gold_train, runs[name], seed=seed, epochs=2, batch_size=8)
    weights = [osp.join(runs[n], 'parser', 'model') for n in 'abc']
    assert filecmp.cmp(weights[0], weights[1], shallow=False)
    assert not filecmp.cmp(weights[0], weights[2], shallow=False)
    versions = []
    for name in 'abc':
        with open(osp.join(runs[name], 'meta.json')) as f:
            versions.append(json.load(f)['version'])
    assert versions[0] == versions[1] != versions[2]


def _draws_after_seeding(seed, between=lambda: None):
    """One draw of Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    between()
    return random.random(), float(np.random.rand()), torch.rand(1).item()


def test_training_leaves_the_global_random_streams(tmp_path, gold_train):
    """spaCy re-seeds the global generators; a run that trains the parser
    on a dataset's first use draws the same numbers as one that reads it."""
    expected = _draws_after_seeding(5)
    drawn = _draws_after_seeding(
        5, lambda: train_dependency_parser(
            gold_train, str(tmp_path / 'p'), seed=0, epochs=1, batch_size=8))
    assert drawn == expected


def test_read_gold_parses(tmp_path, gold_train):
    texts = sorted(gold_train)
    first, second = str(tmp_path / 'a.json'), str(tmp_path / 'b.json')
    write_parse_file(first, 'gold', {t: gold_train[t] for t in texts[:5]})
    write_parse_file(second, 'gold', {t: gold_train[t] for t in texts[5:]})
    assert read_gold_parses([first, second]) == gold_train
    cache = str(tmp_path / 'cache.json')
    write_parse_file(cache, 'en_core_web_sm 3.8.0', {})
    with pytest.raises(
            ValueError,
            match='cache.json holds parses by '
            'en_core_web_sm 3.8.0, not gold trees'):
        read_gold_parses([cache])


def test_parser_never_replaces_a_users_files(tmp_path, gold_train):
    """Issue 23 item 5: train_parser.py GOLD --out myproj replaced the
    user's config.cfg and meta.json in myproj."""
    project = tmp_path / 'myproj'
    project.mkdir()
    mine = {'config.cfg': '[my project]\n', 'meta.json': '{"name": "mine"}'}
    for name, text in dict(mine, **{'notes.txt': 'keep me'}).items():
        (project / name).write_text(text)
    with pytest.raises(OutputExistsError) as info:
        train_dependency_parser(gold_train, str(project), epochs=1)
    assert str(info.value) == (
        f'{project} already holds config.cfg, meta.json, which saving the '
        'parser would replace; they are kept: choose a new or empty folder, '
        'or --overwrite to replace them (other files there are kept)')
    assert {n: (project / n).read_text() for n in mine} == mine
    train_dependency_parser(gold_train, str(project), epochs=1, overwrite=True)
    with open(project / 'meta.json') as f:
        assert json.load(f)['name'] == 'gold_trained_parser'
    assert (project / 'notes.txt').read_text() == 'keep me'
    assert load_spacy_pipeline(str(project)).pipe_names == ['parser']
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.partial')]
