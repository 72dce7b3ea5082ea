"""Dependency parses for the stage panels of a dataset split.

The stage panels draw an expression's parse when its data sample carries
one (``text_parse``). A test split usually has no ``text_parser`` (the
model does not read parses at test time); :func:`give_split_parses` gives
it one in the config, before the dataset is built: a named spaCy pipeline,
else the split's own, else the training set's (the dataset's parser).
"""
import copy
from typing import Optional

from mmengine.config import Config


def _dataset_of(cfg: Config, split: str) -> Optional[dict]:
    """The (unwrapped) dataset config of ``{split}_dataloader``."""
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        return None
    dataset = loader['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def give_split_parses(cfg: Config,
                      split: str = 'test',
                      parser: Optional[str] = None) -> Optional[str]:
    """Set the ``text_parser`` of a split's dataset for the stage panels.

    Args:
        cfg (Config): The config, changed in place.
        split (str): 'test', 'val' or 'train'. Defaults to 'test'.
        parser (str, optional): A spaCy pipeline (installed name or
            folder) to parse with. Defaults to None: the split's
            ``text_parser``, else the training set's.

    Returns:
        str, optional: Who parses, or None when nobody can (the panels
        then say there is no parse).
    """
    dataset = _dataset_of(cfg, split)
    if dataset is None:
        raise ValueError(f'the config has no {split}_dataloader.dataset')
    if parser:
        dataset['text_parser'] = dict(model=parser)
        return f'spaCy {parser}'
    if dataset.get('text_parser'):
        return f"the {split} set's text_parser"
    train = _dataset_of(cfg, 'train')
    if train is not None and train.get('text_parser'):
        dataset['text_parser'] = copy.deepcopy(train['text_parser'])
        return "the training set's text_parser"
    return None
