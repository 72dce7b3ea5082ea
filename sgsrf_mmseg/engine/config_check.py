"""Find config mistakes at start-up and report them all in one message.

Every check runs before anything is built (``tools/train.py``,
``tools/test.py``, the inferencer and the web demo): weight files,
input sizes, datasets, parsers, the range of every numeric value that has
one (:data:`RANGES`: thresholds and IoUs in [0, 1], loss weights >= 0,
batch sizes >= 1, ...), the scoring protocol of each evaluator, and two
synthetic datasets that would generate into one folder with different
settings.
"""
import math
import os.path as osp
import re
from itertools import combinations
from typing import Iterable, Iterator, List, Optional, Tuple

from mmengine.config import Config, ConfigDict
from mmseg.registry import DATASETS

from ..datasets.synthetic import GeneratorParams
from ..datasets.text_parse import pipeline_identity
from ..datasets.text_parse.spacy_pipeline import is_pipeline_path
from ..evaluation.metrics.scoring_protocol import resolve_protocol
from ..models.input_geometry import (as_size, configured_input_sizes,
                                     tower_patch_sizes)
from ..models.losses.structural_consistency_loss import PARSE_HELP

_INF = math.inf
#: ``(dotted path pattern, low, high, what)``: numeric config values and
#: their closed range; a ``low`` written as ``(value,)`` is excluded.
RANGES = (
    (r'model(\..+)?\.threshold', 0, 1, 'a probability'),
    (r'model(\..+)?\.[a-z_]*weight', 0, _INF, 'a loss weight'),
    (r'(val|test)_evaluator(\[\d+\])?\.(threshold|empty_union_iou)', 0, 1,
     'a probability or IoU'),
    (r'(val|test)_evaluator(\[\d+\])?\.iou_thrs\[\d+\]', 0, 1, 'an IoU'),
    (r'\w+_dataloader\.batch_size', 1, _INF, 'a count'),
    (r'\w+_dataloader\.num_workers', 0, _INF, 'a count'),
    (r'\w+_dataloader\.dataset(\..+)?\.prob', 0, 1, 'a probability'),
    (r'train_cfg\.(max_iters|max_epochs|val_interval)', 1, _INF, 'a count'),
    (r'optim_wrapper(\..+)?\.lr', (0, ), _INF, 'a learning rate'),
    (r'optim_wrapper(\..+)?\.weight_decay', 0, _INF, 'a weight decay'),
    (r'optim_wrapper\.clip_grad\.max_norm', (0, ), _INF, 'a norm'),
    (r'default_hooks\.checkpoint\.(interval|max_keep_ckpts)', -1, _INF,
     'a count (-1: none)'),
)


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


def _leaves(node, path: str) -> Iterator[Tuple[str, object]]:
    """Yield ``(dotted path, value)`` for every non-container value."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _leaves(value, f'{path}[{i}]')
    else:
        yield path, node


def _out_of_range(value: object, low, high) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False  # not a number: left to the module that reads it
    if not math.isfinite(value):
        return True
    if isinstance(low, tuple):
        return value <= low[0] or value > high
    return not low <= value <= high


def _sections(cfg: Config, stages: Iterable[str]) -> List[str]:
    """The top-level config keys that a run of ``stages`` reads."""
    names = ['model']
    for stage in stages:
        names += [f'{stage}_dataloader', f'{stage}_evaluator', f'{stage}_cfg']
    if 'train' in stages:
        names += ['optim_wrapper', 'default_hooks']
    return [name for name in names if name in cfg]


def _range_problems(cfg: Config, stages: Iterable[str]) -> List[str]:
    """Numeric values outside their range (see :data:`RANGES`)."""
    problems = []
    for section in _sections(cfg, stages):
        for path, value in _leaves(cfg[section], section):
            for pattern, low, high, what in RANGES:
                if re.fullmatch(pattern, path) and _out_of_range(
                        value, low, high):
                    bound = (f'> {low[0]}' if isinstance(low, tuple) else
                             f'>= {low}') if high == _INF else \
                        f'in [{low}, {high}]'
                    problems.append(f'{path}={value!r} is out of range: '
                                    f'{what}, {bound}')
    return problems


def _evaluator_problems(cfg: Config, stages: Iterable[str]) -> List[str]:
    """Scoring protocols that do not exist or do not hold together."""
    problems = []
    for stage in stages:
        evaluators = cfg.get(f'{stage}_evaluator')
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        for i, metric in enumerate(evaluators or []):
            if not isinstance(metric, dict) or metric.get(
                    'type') != 'ReferringSegMetric':
                continue
            settings = {
                key: metric.get(key)
                for key in ('prec_rule', 'resolution', 'threshold',
                            'empty_union_iou')
            }
            try:
                resolve_protocol(
                    metric.get('protocol', 'original'), **settings)
            except ValueError as err:
                problems.append(f'{stage}_evaluator: {err}')
    return problems


def _generator_of(dataset: dict) -> Optional[dict]:
    """A synthetic dataset's generator settings (None: not generated)."""
    if 'generator' not in dataset and dataset.get(
            'type') != 'SyntheticRefSegRSDataset':
        return None
    try:
        return GeneratorParams.from_dict(dataset.get('generator')).to_dict()
    except ValueError:
        return None  # reported by the dataset's own check


def _shared_root_problems(cfg: Config, stages: Iterable[str]) -> List[str]:
    """Two synthetic datasets in one folder with different settings.

    Building the second would generate the folder again under the first
    (training would pair expressions of one setting with images of the
    other), so the config is refused before anything is built.
    """
    generated = []
    for stage in stages:
        dataset = _stage_dataset(cfg, stage)
        settings = _generator_of(dataset) if dataset else None
        if settings is not None and dataset.get('data_root'):
            generated.append((f'{stage}_dataloader.dataset',
                              osp.abspath(dataset['data_root']), settings))
    problems = []
    for (field_a, root_a, a), (field_b, root_b,
                               b) in combinations(generated, 2):
        differ = [f'{k}: {a[k]} vs {b.get(k)}' for k in a if a[k] != b.get(k)]
        if root_a == root_b and differ:
            problems.append(
                f'{field_a} and {field_b} generate the synthetic dataset into '
                f'the same data_root {root_a} with different generator '
                f'settings ({", ".join(differ)}): building the second would '
                'generate the folder again under the first; give both the '
                'same generator settings, or different data_roots')
    return problems


def check_config(cfg: Config,
                 stages: Iterable[str] = ('train', 'val'),
                 checkpoint: Optional[str] = None) -> None:
    """Raise :class:`ConfigCheckError` listing every problem found in ``cfg``.

    Checked: the weight files the model names exist; input sizes are
    multiples of the CLIP and SAM patch sizes; numeric values are in their
    range (:data:`RANGES`); each stage's dataset type is registered and its
    root holds the files the dataset needs (datasets that define
    ``find_missing_files(**dataset_cfg)``); two synthetic datasets do not
    generate into one folder with different settings; each evaluator's
    scoring protocol exists; a structural loss on dependency parses has a
    parser (installed) for the training set; the checkpoint to test exists.

    Args:
        cfg (Config): The full config.
        stages (Iterable[str]): Dataloaders to check ('train', 'val',
            'test'); none checks the model only (inference). Defaults to
            ('train', 'val').
        checkpoint (str, optional): A checkpoint that must exist.
    """
    stages = tuple(stages)
    model = cfg.get('model') or ConfigDict()
    problems = _weight_problems(model) + _size_problems(model)
    problems += _range_problems(cfg, stages) + _evaluator_problems(cfg, stages)
    problems += _dataset_problems(cfg, stages)
    problems += _shared_root_problems(cfg, stages)
    problems += _parse_problems(cfg, stages)
    if checkpoint is not None and not osp.isfile(checkpoint):
        problems.append(f'checkpoint {checkpoint} does not exist')
    if problems:
        name = cfg.filename or 'the config'
        raise ConfigCheckError(
            f'{name} cannot run ({len(problems)} problem'
            f'{"s" if len(problems) > 1 else ""}; fix them in the config or '
            'with --cfg-options KEY=VALUE):\n  - ' + '\n  - '.join(problems))
