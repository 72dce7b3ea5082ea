"""Find config mistakes at start-up and report them all in one message."""
import os.path as osp
from typing import Iterable, Iterator, List, Optional, Tuple

from mmengine.config import Config, ConfigDict
from mmseg.registry import DATASETS

from ..datasets.text_parse import pipeline_identity
from ..datasets.text_parse.spacy_pipeline import is_pipeline_path
from ..models.input_geometry import (as_size, configured_input_sizes,
                                     tower_patch_sizes)
from ..models.losses.structural_consistency_loss import PARSE_HELP


class ConfigCheckError(ValueError):
    """A config that cannot run, with every problem found listed."""


def _walk(node, path: str = '') -> Iterator[Tuple[str, dict]]:
    """Yield ``(dotted path, dict)`` for every dict nested in ``node``."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f'{path}.{key}' if path else key)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f'{path}[{i}]')


def _weight_problems(model: dict) -> List[str]:
    problems = []
    for path, node in _walk(model, 'model'):
        files = []
        if isinstance(node.get('pretrained'), str):
            files.append((f'{path}.pretrained', node['pretrained']))
        if node.get('type') == 'Pretrained' and isinstance(
                node.get('checkpoint'), str):
            files.append((f'{path}.checkpoint', node['checkpoint']))
        problems += [
            f'{field}: weight file {file} does not exist'
            for field, file in files if not osp.isfile(file)
        ]
    return problems


def _size_problems(model: dict) -> List[str]:
    """Input sizes that are not multiples of the towers' patch sizes."""
    try:
        patches = tower_patch_sizes(model)
    except (KeyError, ValueError) as err:
        return [f'model: {err}']
    return [
        f'{field}={size} is not a multiple of the patch size {patch} of '
        f'{tower}' for field, size in configured_input_sizes(model)
        for tower, patch in patches.items()
        if any(s % patch for s in as_size(size))
    ]


def _stage_dataset(cfg: Config, stage: str) -> Optional[dict]:
    """The dataset config of a stage's dataloader, unwrapped."""
    loader = cfg.get(f'{stage}_dataloader')
    if not loader:
        return None
    dataset = loader.get('dataset', {})
    while 'dataset' in dataset:  # wrappers such as RepeatDataset
        dataset = dataset['dataset']
    return dataset


def _reads_parses(scr: dict) -> bool:
    """Whether the structural loss's config reads the expressions' parses:
    a structure term on parses (the roles or tree distances) or the GPG
    term."""
    on_parses = scr.get('language_structure',
                        'roles') in ('roles', 'tree_distance')
    return bool(
        scr.get('struct_weight', 0.5) and on_parses
        or scr.get('prompt_weight', 0.0))


def _parse_problems(cfg: Config, stages: Iterable[str]) -> List[str]:
    """A structure loss on parses needs a parser for the training set."""
    scr = (cfg.get('model') or {}).get('structural_loss')
    dataset = _stage_dataset(cfg, 'train') if 'train' in stages else None
    if not scr or dataset is None or not _reads_parses(scr) or \
            dataset.get('type') not in DATASETS:
        return []
    text_parser = dataset.get('text_parser')
    if not text_parser:
        return [
            'model.structural_loss reads the dependency parse of every '
            'training expression (its structure terms on parses), but '
            f'train_dataloader.dataset has no text_parser: {PARSE_HELP}'
        ]
    model = text_parser.get('model')
    if model and not is_pipeline_path(model):
        try:
            pipeline_identity(model)
        except ImportError as err:
            return [f'train_dataloader.dataset.text_parser: {err}']
    return []


def _dataset_problems(cfg: Config, stages: Iterable[str]) -> List[str]:
    problems = []
    for stage in stages:
        dataset = _stage_dataset(cfg, stage)
        if dataset is None:
            continue
        field = f'{stage}_dataloader.dataset'
        try:
            dataset_cls = DATASETS.get(dataset.get('type'))
        except KeyError:
            dataset_cls = None
        if dataset_cls is None:
            problems.append(f"{field}.type={dataset.get('type')!r} is not a "
                            'registered dataset')
            continue
        find_missing = getattr(dataset_cls, 'find_missing_files', None)
        if find_missing is None:
            continue
        kwargs = {
            k: v
            for k, v in dataset.items() if k not in ('type', 'pipeline')
        }
        problems += [
            f'{field}: {message}' for message in find_missing(**kwargs)
        ]
    return problems


def check_config(cfg: Config,
                 stages: Iterable[str] = ('train', 'val'),
                 checkpoint: Optional[str] = None) -> None:
    """Raise :class:`ConfigCheckError` listing every problem found in ``cfg``.

    Checked: the weight files the model names exist; input sizes are
    multiples of the CLIP and SAM patch sizes; each stage's dataset type is
    registered and its root holds the files the dataset needs (datasets
    that define ``find_missing_files(**dataset_cfg)``); a structural loss on
    dependency parses has a parser (installed) for the training set; the
    checkpoint to test exists.

    Args:
        cfg (Config): The full config.
        stages (Iterable[str]): Dataloaders to check ('train', 'val',
            'test'). Defaults to ('train', 'val').
        checkpoint (str, optional): A checkpoint that must exist.
    """
    model = cfg.get('model') or ConfigDict()
    problems = _weight_problems(model) + _size_problems(model)
    problems += _dataset_problems(cfg, stages) + _parse_problems(cfg, stages)
    if checkpoint is not None and not osp.isfile(checkpoint):
        problems.append(f'checkpoint {checkpoint} does not exist')
    if problems:
        name = cfg.filename or 'the config'
        raise ConfigCheckError(f'{name} cannot run:\n  - ' +
                               '\n  - '.join(problems))
