"""A spaCy parser trained here on hand-written gold trees (no download)."""
import pytest
from gold_trees import HELD_OUT_TREES, TRAIN_TREES, gold_parses

from sgsrf_mmseg.datasets.text_parse import train_dependency_parser

#: Small corpus settings: ~2 s on 2 cores.
TRAINING = dict(seed=0, epochs=15, batch_size=8)


@pytest.fixture(scope='session')
def gold_train():
    return gold_parses(TRAIN_TREES)


@pytest.fixture(scope='session')
def gold_held_out():
    return gold_parses(HELD_OUT_TREES)


@pytest.fixture(scope='session')
def trained_parser(tmp_path_factory, gold_train):
    """Folder of a spaCy pipeline trained on the gold training trees."""
    folder = str(tmp_path_factory.mktemp('parser') / 'pipeline')
    train_dependency_parser(gold_train, folder, **TRAINING)
    return folder
