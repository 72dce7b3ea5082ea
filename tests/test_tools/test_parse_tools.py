import json
import os.path as osp
import sys

import pytest
from tool_runner import REPO, run_tool

from sgsrf_mmseg.datasets.text_parse import (pipeline_identity,
                                             read_parse_file, write_parse_file)

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow

TREES = (
    ('the red car at the top left', [2, 2, 2, 2, 6, 6, 3],
     ['det', 'amod', 'ROOT', 'prep', 'det', 'amod', 'pobj']),
    ('all white storage tanks', [3, 3, 3,
                                 3], ['predet', 'amod', 'compound', 'ROOT']),
    ('the building next to the blue pond', [1, 1, 1, 2, 6, 6, 3],
     ['det', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj']),
    ('the large vehicle', [2, 2, 2], ['det', 'amod', 'ROOT']),
    ('the two grey buildings', [3, 3, 3, 3], ['det', 'nummod', 'amod',
                                              'ROOT']),
    ('the pond on the left', [1, 1, 1, 4,
                              2], ['det', 'ROOT', 'prep', 'det', 'pobj']),
)


def test_train_a_parser_then_parse_a_split(tmp_path, write_config,
                                           synthetic_root):
    gold = {}
    for text, heads, deps in TREES:
        words = text.split()
        gold[text] = dict(
            words=words,
            spaces=[True] * (len(words) - 1) + [False],
            heads=heads,
            deps=deps)
    gold_file = str(tmp_path / 'output_phrase_train.gold_parses.json')
    write_parse_file(gold_file, 'gold', gold)
    pipeline = str(tmp_path / 'parser')
    result = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/misc/train_parser.py'), gold_file, '--out',
        pipeline, '--eval', gold_file, '--epochs', '10', '--batch-size', '2'
    ])
    assert result.returncode == 0, result.stderr
    assert 'trained on 6 gold trees' in result.stdout
    assert '6 held-out trees: UAS ' in result.stdout
    with open(osp.join(pipeline, 'meta.json')) as f:
        assert json.load(f)['name'] == 'gold_trained_parser'

    cache = str(tmp_path / 'val_parses.json')
    result = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/misc/parse_expressions.py'),
        write_config(), '--split', 'val', '--parser', pipeline, '--cache-file',
        cache
    ])
    assert result.returncode == 0, result.stderr
    assert f'parsed in {cache}' in result.stdout
    assert 'parsing expressions with' in result.stderr  # the progress bar
    parser, parses = read_parse_file(cache)
    assert parser == pipeline_identity(pipeline)
    with open(osp.join(synthetic_root, 'output_phrase_val.txt')) as f:
        texts = {line.split(' ', 1)[1].strip() for line in f if line.strip()}
    assert set(parses) == texts
    assert all(p.text == t for t, p in parses.items())
