"""Train a spaCy dependency parser from gold parses, offline.

The pipeline is saved without losing anything a user made
(:func:`save_pipeline`): written into a temporary folder first, then moved
into place; files of the same names in an existing folder are replaced only
with ``overwrite=True`` (``--overwrite``), or when the folder holds a
pipeline this trainer wrote (``meta.json`` named
:data:`TRAINED_PIPELINE_NAME`) and the caller retrains it.
"""
import hashlib
import json
import os
import os.path as osp
import random
import shutil
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence

import numpy as np
import torch
from mmengine.logging import print_log

from ...utils.atomic_file import OutputExistsError, partial_path
from ...utils.command_line import UsageError
from ...utils.dependency_parse import DependencyParse
from ...utils.folder_lock import file_lock
from ...utils.json_file import read_json
from .parse_file import GOLD_PARSER, read_parse_file
from .spacy_pipeline import import_spacy

#: ``meta['name']`` of the pipelines :func:`train_dependency_parser` saves.
TRAINED_PIPELINE_NAME = 'gold_trained_parser'
#: What spaCy writes into a folder for a blank pipeline with a parser.
PIPELINE_ENTRIES = ('config.cfg', 'meta.json', 'parser', 'tokenizer', 'vocab')


def read_gold_parses(paths: Sequence[str]) -> Dict[str, DependencyParse]:
    """Gold parses of one or more gold parse files.

    Args:
        paths (Sequence[str]): Files written with ``parser: 'gold'``, such
            as ``output_phrase_{split}.gold_parses.json``.

    Returns:
        dict[str, DependencyParse]: Gold parses by text.
    """
    gold = {}
    for path in paths:
        parser, parses = read_parse_file(path)
        if parser != GOLD_PARSER:
            raise ValueError(f'{path} holds parses by {parser}, not gold '
                             f'trees ("parser": "{GOLD_PARSER}")')
        gold.update(parses)
    if not gold:
        raise ValueError(f'no gold parses in {list(paths)}')
    return gold


def gold_examples(nlp, parses: Dict[str, DependencyParse]) -> list:
    """spaCy training examples of gold parses.

    The predicted side is tokenized by ``nlp``; spaCy aligns it with the
    gold words.

    Args:
        nlp (spacy.Language): The pipeline.
        parses (dict[str, DependencyParse]): Gold parses by text.

    Returns:
        list[spacy.training.Example]: One example per text, sorted by text.
    """
    from spacy.training import Example
    return [
        Example.from_dict(nlp.make_doc(parse.text), parse.to_dict())
        for _, parse in sorted(parses.items())
    ]


def training_digest(parses: Dict[str, DependencyParse], settings: dict) -> str:
    """Short digest of the training data and settings (the model version)."""
    content = json.dumps(
        [sorted((t, p.to_dict()) for t, p in parses.items()), settings],
        sort_keys=True)
    return hashlib.sha256(content.encode('utf-8')).hexdigest()[:12]


def _training_settings(seed: int, epochs: int, batch_size: int, dropout: float,
                       lang: str) -> dict:
    """What, besides the data, decides a trained parser."""
    return dict(
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        dropout=dropout,
        lang=lang,
        spacy=import_spacy().__version__)


def ensure_trained_parser(gold_files: Sequence[str], output_dir: str,
                          **settings) -> None:
    """Train a parser from gold files unless ``output_dir`` holds one
    trained on the same trees with the same settings.

    The pipeline's version (``0.0.0+<digest>``) tells which trees trained
    it, so new gold files (a regenerated dataset) train it again. A lock
    beside the folder makes concurrent processes train it once.

    Args:
        gold_files (Sequence[str]): Gold parse files.
        output_dir (str): The pipeline folder.
        **settings: Arguments of :func:`train_dependency_parser`.
    """
    parses = read_gold_parses(gold_files)
    settings = dict(
        dict(seed=0, epochs=10, batch_size=16, dropout=0.1, lang='en'),
        **settings)
    version = ('0.0.0+' +
               training_digest(parses, _training_settings(**settings)))
    meta = _pipeline_meta(output_dir)
    if meta.get('version') == version:
        return  # trained already: nothing is written, no lock is taken
    os.makedirs(osp.dirname(osp.abspath(output_dir)), exist_ok=True)
    with file_lock(f'{output_dir}.lock'):
        meta = _pipeline_meta(output_dir)
        if meta.get('version') == version:
            return
        print_log(
            f'training a dependency parser on {len(parses)} gold trees of '
            f'{list(gold_files)} into {output_dir}',
            logger='current')
        train_dependency_parser(
            parses,
            output_dir,
            overwrite=meta.get('name') == TRAINED_PIPELINE_NAME,
            **settings)


def _pipeline_meta(folder: str) -> dict:
    """The ``meta.json`` of a pipeline folder ({} when there is none)."""
    path = osp.join(folder, 'meta.json')
    if not osp.isfile(path):
        return {}
    meta = read_json(path, 'spaCy pipeline meta file')
    return meta if isinstance(meta, dict) else {}


def _check_destination(output_dir: str, names: Sequence[str],
                       overwrite: bool) -> None:
    """Refuse a destination that is a file, or whose files would be lost."""
    if osp.lexists(output_dir) and not osp.isdir(output_dir):
        raise UsageError(f'{output_dir} exists and is not a folder; choose '
                         'a new or empty folder for the parser')
    clash = sorted(n for n in names if osp.lexists(osp.join(output_dir, n)))
    if clash and not overwrite:
        raise OutputExistsError(
            f'{output_dir} already holds {", ".join(clash)}, which saving '
            'the parser would replace; they are kept: choose a new or empty '
            'folder, or --overwrite to replace them (other files there are '
            'kept)')


def _replace_entry(source: str, destination: str) -> None:
    """Move ``source`` onto ``destination`` (a file or a folder)."""
    aside = None
    if osp.isdir(destination) and not osp.islink(destination):
        aside = partial_path(destination)
        os.rename(destination, aside)
    elif osp.lexists(destination) and osp.isdir(source):
        os.remove(destination)
    os.replace(source, destination)
    if aside is not None:
        shutil.rmtree(aside)


def save_pipeline(nlp, output_dir: str, overwrite: bool = False) -> None:
    """Save a pipeline without losing what a folder already holds.

    The pipeline is written into a hidden temporary folder beside
    ``output_dir``, then moved into place: as a whole when ``output_dir``
    does not exist, else entry by entry (``config.cfg``, ``meta.json``,
    ``parser/``, ...), other files in the folder kept.

    Args:
        nlp (spacy.Language): The pipeline.
        output_dir (str): The destination folder.
        overwrite (bool): Replace entries of the same names. Defaults to
            False: such entries are an
            :class:`~sgsrf_mmseg.utils.atomic_file.OutputExistsError` and
            nothing is written.
    """
    staging = partial_path(output_dir)
    try:
        nlp.to_disk(staging)
        names = sorted(os.listdir(staging))
        _check_destination(output_dir, names, overwrite)
        if not osp.lexists(output_dir):
            os.makedirs(osp.dirname(osp.abspath(output_dir)), exist_ok=True)
            os.rename(staging, output_dir)
            return
        for name in names:
            _replace_entry(osp.join(staging, name), osp.join(output_dir, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _global_random_state_kept() -> Iterator[None]:
    """Python's, NumPy's and torch's global random states as they were
    before the block, after it: spaCy's ``fix_random_seed`` re-seeds all
    three, and a parser trained on a dataset's first use must not change
    the random streams of the run that uses the dataset."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng():
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def train_dependency_parser(parses: Dict[str, DependencyParse],
                            output_dir: str,
                            seed: int = 0,
                            epochs: int = 10,
                            batch_size: int = 16,
                            dropout: float = 0.1,
                            lang: str = 'en',
                            overwrite: bool = False) -> List[float]:
    """Train spaCy's transition-based parser on gold trees and save it.

    A blank ``lang`` pipeline with one ``parser`` component (its own
    tok2vec; ``min_action_freq=1`` keeps every label of a small corpus) is
    trained for ``epochs`` passes over the shuffled examples. The result
    depends only on the data, the settings and ``seed``, and the global
    random states are left as they were; its
    ``meta['version']`` is ``0.0.0+<digest of data and settings>``, so a
    parse cache written with an older pipeline in the same folder is not
    reused.

    Args:
        parses (dict[str, DependencyParse]): Gold parses by text.
        output_dir (str): Folder the pipeline is saved to (``spacy.load``
            reads it).
        seed (int): Random seed. Defaults to 0.
        epochs (int): Passes over the data. Defaults to 10.
        batch_size (int): Examples per update. Defaults to 16.
        dropout (float): Dropout rate during training. Defaults to 0.1.
        lang (str): spaCy language code (its tokenizer rules).
            Defaults to 'en'.
        overwrite (bool): Replace files of the same names in
            ``output_dir`` (see :func:`save_pipeline`). Defaults to False.

    Returns:
        list[float]: The parser loss of each epoch.
    """
    _check_destination(output_dir, PIPELINE_ENTRIES, overwrite)  # at once
    spacy = import_spacy()
    from spacy.util import fix_random_seed, minibatch
    settings = _training_settings(seed, epochs, batch_size, dropout, lang)
    with _global_random_state_kept():
        fix_random_seed(seed)
        nlp = spacy.blank(lang)
        nlp.add_pipe('parser', config={'min_action_freq': 1})
        examples = gold_examples(nlp, parses)
        optimizer = nlp.initialize(lambda: examples)
        order = random.Random(seed)
        epoch_losses = []
        for _ in range(epochs):
            shuffled = list(examples)
            order.shuffle(shuffled)
            losses: Dict[str, float] = {}
            for batch in minibatch(shuffled, size=batch_size):
                nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
            epoch_losses.append(losses.get('parser', 0.0))
    nlp.meta['name'] = TRAINED_PIPELINE_NAME
    nlp.meta['version'] = f'0.0.0+{training_digest(parses, settings)}'
    nlp.meta['description'] = (
        f'Dependency parser trained on {len(parses)} gold trees')
    save_pipeline(nlp, output_dir, overwrite)
    return epoch_losses


def evaluate_parser(nlp, gold: Dict[str, DependencyParse]) -> Dict[str, float]:
    """Attachment scores of a parser on gold trees (spaCy's scorer).

    Args:
        nlp (spacy.Language): A pipeline with a dependency parser.
        gold (dict[str, DependencyParse]): Gold parses by text.

    Returns:
        dict[str, float]: ``uas`` and ``las`` (fractions of words with the
        right head, and with the right head and label; punctuation is not
        scored) and ``num_texts``.
    """
    scores = nlp.evaluate(gold_examples(nlp, gold))
    return dict(
        uas=scores['dep_uas'], las=scores['dep_las'], num_texts=len(gold))
