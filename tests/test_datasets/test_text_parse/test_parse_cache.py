import json
import os
import os.path as osp
import shutil

import pytest

from sgsrf_mmseg.datasets.text_parse import (ensure_parses, parse_cache,
                                             pipeline_identity,
                                             read_parse_file,
                                             train_dependency_parser,
                                             write_parse_file)
from sgsrf_mmseg.datasets.text_parse.parser_training import \
    ensure_trained_parser
from sgsrf_mmseg.utils.dependency_parse import DependencyParse

TEXTS = [
    'the red car at the top left', 'all white storage tanks',
    'the building next to the blue pond'
]


@pytest.fixture
def parse_calls(monkeypatch):
    """The texts given to spaCy, call by call."""
    calls = []
    real = parse_cache.parse_texts

    def recording(nlp, texts, **kwargs):
        calls.append(list(texts))
        return real(nlp, texts, **kwargs)

    monkeypatch.setattr(parse_cache, 'parse_texts', recording)
    return calls


def test_cache_is_keyed_by_text_and_parser(tmp_path, trained_parser,
                                           parse_calls, monkeypatch):
    cache = str(tmp_path / 'output_phrase_train.parses.json')
    parses = ensure_parses(TEXTS, trained_parser, cache)
    assert parse_calls == [sorted(TEXTS)]
    assert set(parses) == set(TEXTS)
    parser, stored = read_parse_file(cache)
    assert parser == pipeline_identity(trained_parser)
    assert stored == parses
    assert parses['the red car at the top left'].heads == (2, 2, 2, 2, 6, 6, 3)

    # an edited expression is parsed, the others are reused
    edited = TEXTS[:2] + ['the building next to the green pond']
    again = ensure_parses(edited, trained_parser, cache)
    assert parse_calls[1:] == [['the building next to the green pond']]
    assert all(again[t] == parses[t] for t in TEXTS)
    assert set(read_parse_file(cache)[1]) == set(TEXTS) | set(edited)

    # a complete cache is only read
    ensure_parses(edited, trained_parser, cache)
    assert len(parse_calls) == 2

    # the same pipeline elsewhere (copied, moved) is the same parser
    other = str(tmp_path / 'other_pipeline')
    shutil.copytree(trained_parser, other)
    assert pipeline_identity(other) == pipeline_identity(trained_parser)
    ensure_parses(TEXTS, other, cache)
    assert len(parse_calls) == 2


def test_parser_retrained_in_place_parses_again(tmp_path, trained_parser,
                                                gold_train, parse_calls,
                                                monkeypatch):
    """Keyed by the parser's files, not its folder and meta version: a
    pipeline retrained in place whose meta.json keeps its version (spaCy's
    default 0.0.0) parses every expression again."""
    folder = str(tmp_path / 'pipeline')
    shutil.copytree(trained_parser, folder)
    cache = str(tmp_path / 'output_phrase_train.parses.json')
    ensure_parses(TEXTS, folder, cache)
    before = pipeline_identity(folder)
    meta_file = osp.join(folder, 'meta.json')
    with open(meta_file) as f:
        meta = json.load(f)
    train_dependency_parser(
        gold_train, folder, seed=1, epochs=2, batch_size=8, overwrite=True)
    with open(meta_file, 'w') as f:
        json.dump(meta, f)  # the same name and version as before
    after = pipeline_identity(folder)
    assert after != before
    messages = []
    monkeypatch.setattr(parse_cache, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    ensure_parses(TEXTS, folder, cache)
    assert parse_calls == [sorted(TEXTS)] * 2
    assert messages[0] == (f'{cache} holds parses by {before}; the '
                           f'expressions are parsed again with {after}')
    assert read_parse_file(cache)[0] == after


def test_complete_cache_needs_no_write_access(tmp_path, trained_parser,
                                              parse_calls, monkeypatch):
    cache = str(tmp_path / 'parses.json')
    ensure_parses(TEXTS, trained_parser, cache)

    def read_only(path):
        raise PermissionError(13, 'Permission denied', path)

    monkeypatch.setattr(parse_cache, 'open_lock_file', read_only)
    assert set(ensure_parses(TEXTS[:1], trained_parser, cache)) == set(TEXTS)
    with pytest.raises(OSError) as err:
        ensure_parses(['the white car'], trained_parser, cache)
    assert str(err.value) == (
        f'cannot write the parse cache {cache} (Permission denied): put the '
        "cache in a writable place with text_parser=dict(..., "
        "cache_file='PATH') in the dataset config, or --cache-file PATH "
        'with tools/misc/parse_expressions.py')


def test_gold_file_is_never_overwritten(tmp_path, trained_parser, gold_train):
    gold = str(tmp_path / 'output_phrase_train.gold_parses.json')
    write_parse_file(gold, 'gold', gold_train)
    with pytest.raises(ValueError, match='holds gold parses'):
        ensure_parses(['the white car'], trained_parser, gold)
    assert read_parse_file(gold) == ('gold', gold_train)


def test_parse_file_checks(tmp_path, gold_train):
    text, parse = sorted(gold_train.items())[0]
    assert parse.text == text
    parse = parse.to_dict()
    assert DependencyParse.from_dict(parse, text).text == text
    bad = dict(parse, heads=parse['heads'][:-1] + [len(parse['words'])])
    with pytest.raises(
            ValueError,
            match=r'src: parse of .*: malformed dependency parse: heads '
            r'must be word indices in \[0, '):
        DependencyParse.from_dict(bad, text, source='src')
    with pytest.raises(ValueError, match='its words spell'):
        DependencyParse.from_dict(parse, text + ' again')
    with pytest.raises(ValueError, match='differ in length'):
        DependencyParse.from_dict(dict(parse, deps=parse['deps'][1:]))
    with pytest.raises(ValueError, match='no list field'):
        DependencyParse.from_dict(dict(parse, deps=None))
    with pytest.raises(ValueError, match='a parse must be a dict, got str'):
        DependencyParse.from_dict('a car')
    path = str(tmp_path / 'parses.json')
    with open(path, 'w') as f:
        json.dump(dict(format=1, parser='x', parses={'a car': bad}), f)
    with pytest.raises(ValueError, match='parses.json: parse of'):
        read_parse_file(path)
    with open(path, 'w') as f:
        json.dump(dict(format=2, parser='x', parses={}), f)
    with pytest.raises(ValueError, match='not a parse file of format 1'):
        read_parse_file(path)
    with open(path, 'w') as f:
        f.write('{')
    with pytest.raises(ValueError, match='parses.json is not valid JSON'):
        read_parse_file(path)
    assert not osp.exists(path + '.lock')


def test_planted_links_at_the_cache_locks_are_never_followed(
        tmp_path, trained_parser, gold_train):
    """The lock-file guard on cases not in issue 23: the parse cache's lock
    and the parser trainer's lock."""
    target = tmp_path / 'precious.txt'
    target.write_text('precious')
    cache = str(tmp_path / 'output_phrase_train.parses.json')
    os.symlink(target, cache + '.lock')
    with pytest.raises(
            OSError,
            match=r'parses\.json\.lock is a symbolic '
            'link, which is never followed'):
        ensure_parses(TEXTS, trained_parser, cache)
    gold = str(tmp_path / 'gold.json')
    write_parse_file(gold, 'gold', gold_train)
    parser = str(tmp_path / 'spacy_parser')
    os.symlink(target, parser + '.lock')
    with pytest.raises(OSError, match='spacy_parser.lock is a symbolic link'):
        ensure_trained_parser([gold], parser)
    assert target.read_text() == 'precious'
    assert not osp.exists(cache) and not osp.exists(parser)
