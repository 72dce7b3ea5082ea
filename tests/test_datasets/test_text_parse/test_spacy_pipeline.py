import json
import re
import shutil
import sys

import pytest
import spacy

from sgsrf_mmseg.datasets.text_parse import (ensure_parses,
                                             load_spacy_pipeline,
                                             pipeline_identity)
from sgsrf_mmseg.datasets.text_parse.spacy_pipeline import import_spacy


def test_missing_spacy_names_the_install_commands(monkeypatch, tmp_path,
                                                  trained_parser):
    monkeypatch.setitem(sys.modules, 'spacy', None)  # import spacy fails
    with pytest.raises(ImportError) as err:
        import_spacy()
    message = str(err.value)
    assert 'need spaCy, which is not installed' in message
    assert 'pip install spacy' in message
    assert 'python -m spacy download en_core_web_sm' in message
    with pytest.raises(ImportError, match='pip install spacy'):
        ensure_parses(['the red car'], trained_parser,
                      str(tmp_path / 'parses.json'))


def test_missing_pipeline_package():
    with pytest.raises(ImportError) as err:
        pipeline_identity('en_core_web_absent')
    assert str(err.value) == (
        "the spaCy pipeline 'en_core_web_absent' is not installed: pip "
        'install spacy, then python -m spacy download en_core_web_absent '
        '(or give the folder of a pipeline trained with '
        'tools/misc/train_parser.py)')


def test_pipeline_folder_problems(tmp_path):
    with pytest.raises(
            FileNotFoundError,
            match='spaCy pipeline folder not found: ./nowhere'):
        pipeline_identity('./nowhere')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='has no meta.json'):
        pipeline_identity(str(tmp_path / 'empty'))
    blank = str(tmp_path / 'blank')
    spacy.blank('en').to_disk(blank)
    with pytest.raises(
            ValueError,
            match=r'has no dependency parser \(its '
            r'components: \[\]\)'):
        load_spacy_pipeline(blank)


def test_identity_of_a_folder(trained_parser, tmp_path):
    with open(f'{trained_parser}/meta.json') as f:
        version = json.load(f)['version']
    assert version.startswith('0.0.0+')
    identity = pipeline_identity(trained_parser)
    assert re.fullmatch(
        f'en_gold_trained_parser {re.escape(version)} '
        'sha256:[0-9a-f]{16}', identity), identity
    # a byte changed in any file of the pipeline changes the identity
    changed = str(tmp_path / 'changed')
    shutil.copytree(trained_parser, changed)
    with open(f'{changed}/parser/cfg', 'a') as f:
        f.write(' ')
    assert pipeline_identity(changed) != identity
