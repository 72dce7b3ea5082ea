"""Parses of a dataset's expressions: attached to its items, or made ahead."""
import copy
from typing import List, Optional

from mmengine.config import Config
from mmseg.registry import DATASETS

from .parse_cache import ensure_parses
from .parse_file import cache_file_for
from .parser_training import ensure_trained_parser

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def text_parse_file(text_parser: Optional[dict],
                    ann_file: str) -> Optional[str]:
    """The parse cache of a dataset split.

    Args:
        text_parser (dict, optional): The dataset's ``text_parser``.
        ann_file (str): The split's annotation file.

    Returns:
        str, optional: ``text_parser['cache_file']`` as given (not joined
        with ``data_root``), else the file beside ``ann_file``
        (:func:`cache_file_for`); None without ``text_parser``.
    """
    if text_parser is None:
        return None
    return text_parser.get('cache_file') or cache_file_for(ann_file)


def attach_text_parses(data_list: List[dict], text_parser: Optional[dict],
                       ann_file: str) -> None:
    """Give every expression of a data list its parse, ``text_parse``.

    Every expression of the split is looked up in the parse cache, and
    what the cache lacks is parsed with spaCy (:func:`ensure_parses`). The
    parse goes into each item holding a ``text`` (test mode) or into each
    of its ``sentences`` (training mode, where a sentence is picked per
    read).

    Args:
        data_list (list[dict]): Items of a referring dataset, changed in
            place.
        text_parser (dict, optional): ``dict(model=..., cache_file=...,
            train_from=...)``; with ``train_from`` (gold parse files) the
            pipeline folder ``model`` is first trained on them unless it
            already was (:func:`ensure_trained_parser`). None attaches
            nothing.
        ann_file (str): The split's annotation file (the cache is beside
            it unless ``cache_file`` is given).
    """
    if text_parser is None:
        return
    if text_parser.get('train_from'):
        ensure_trained_parser(text_parser['train_from'], text_parser['model'])
    entries = [
        entry for item in data_list for entry in item.get('sentences', [item])
    ]
    parses = ensure_parses((e['text'] for e in entries), text_parser['model'],
                           text_parse_file(text_parser, ann_file))
    for entry in entries:
        entry['text_parse'] = parses[entry['text']]


def split_dataset_config(cfg: Config, split: str) -> dict:
    """The dataset config of ``split``, taken from the config's loaders.

    The ``{split}_dataloader``'s dataset is used when the config has one,
    else the first dataloader's; wrappers (``RepeatDataset``...) are
    unwrapped, ``split`` is set and the pipeline emptied.

    Args:
        cfg (Config): A training/testing config.
        split (str): ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        dict: The dataset config.
    """
    names = [f'{split}_dataloader'] + list(DATALOADERS)
    loader = next((cfg[n] for n in names if cfg.get(n)), None)
    if loader is None or 'dataset' not in loader:
        raise ValueError(f'{cfg.filename} has no dataloader with a dataset '
                         f'({", ".join(DATALOADERS)})')
    dataset = loader['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    dataset = copy.deepcopy(dict(dataset))
    dataset.update(split=split, pipeline=[], test_mode=True)
    return dataset


def _split_text_parser(cfg: Config, dataset: dict,
                       model: Optional[str]) -> dict:
    """The parser of a split: ``model``, else its own, else training's.

    Only the training dataset usually names a parser (the structural loss
    reads training parses), so the other splits are parsed with it (into
    their own caches). A ``model`` given replaces the parser (its other
    settings, such as ``train_on_gold``, go with it); the split's
    ``cache_file`` is kept.
    """
    text_parser = dataset.get('text_parser')
    if not text_parser:
        text_parser = {
            key: value
            for key, value in (
                split_dataset_config(cfg, 'train').get('text_parser') or {}
            ).items() if key != 'cache_file'
        }
    if model is None:
        return dict(text_parser)
    return dict(
        {
            key: value
            for key, value in text_parser.items() if key == 'cache_file'
        },
        model=model)


def parse_dataset_split(cfg: Config,
                        split: str,
                        model: Optional[str] = None,
                        cache_file: Optional[str] = None):
    """Make sure every expression of a split has a parse in its cache.

    Args:
        cfg (Config): A config whose dataloaders name the dataset.
        split (str): The split.
        model (str, optional): The spaCy pipeline (package name or folder).
            Defaults to None: the split's ``text_parser`` in the config, else
            the training dataset's.
        cache_file (str, optional): Parse cache. Defaults to None: the
            config's, else beside the annotation file.

    Returns:
        ReferringSegDataset: The dataset (one item per expression), its
        items carrying ``text_parse``; ``text_parse_file`` is the cache.
    """
    dataset = split_dataset_config(cfg, split)
    text_parser = _split_text_parser(cfg, dataset, model)
    if cache_file is not None:
        text_parser['cache_file'] = cache_file
    if not text_parser:
        raise ValueError(
            f'{cfg.filename}: neither the {split} dataset nor the training '
            'dataset has a text_parser; name the spaCy pipeline to parse '
            'with (--parser en_core_web_sm, or the folder of a pipeline '
            'trained with tools/misc/train_parser.py)')
    dataset['text_parser'] = text_parser
    return DATASETS.build(dataset)
