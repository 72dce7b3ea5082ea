"""Does a model read the expression? Its own expression against another's.

For N scenes of a split (distinct images, one expression each, chosen with
a seed) the model segments every scene twice: with the scene's own
expression, and with the expression of another of the N scenes (a fixed,
seeded derangement: no scene keeps its own). Both masks are scored against
the scene's own target, loaded by the dataset's test pipeline
(``LoadReferringMask``) and counted by the config's ``ReferringSegMetric``,
as ``tools/test.py`` scores them. A model that grounds the expression loses
IoU when it is given another scene's expression; a model that segments
whatever looks salient does not.

The result (a JSON object)::

    kind            "sgsrf-text-swap"
    config, checkpoint, split, seed, num
    own_mIoU        mIoU (percent) with the scenes' own expressions
    swapped_mIoU    mIoU (percent) with the swapped expressions
    difference      own_mIoU - swapped_mIoU, in points
    same_text       swaps in which both scenes have the same expression
    scenes          [{index, img_path, text, swapped_from, swapped_text,
                      own_iou, swapped_iou}]: dataset item indices, the
                    expressions as the model read them, IoU as a fraction
                    (null where mask and target are both empty)
"""
import random
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, METRICS

from ..apis import ReferringSegInferencer

TEXT_SWAP_KIND = 'sgsrf-text-swap'
#: Item fields that belong to the expression and travel with it.
EXPRESSION_KEYS = ('text', 'text_parse')
SPLITS = ('val', 'test')


def derangement(n: int, seed: int) -> List[int]:
    """A seeded permutation of ``range(n)`` without a fixed point.

    Sattolo's algorithm: a uniformly drawn single cycle through all ``n``
    positions, so position ``i`` never maps to itself.

    Args:
        n (int): Length, at least 2.
        seed (int): Random seed.

    Returns:
        list[int]: ``perm`` with ``perm[i] != i`` for every ``i``.
    """
    if n < 2:
        raise ValueError(f'a derangement needs at least 2 items, got {n}')
    rng = random.Random(seed)
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.randrange(i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def pick_scenes(dataset, num: int, seed: int, split: str) -> List[int]:
    """Dataset items of ``num`` distinct images, chosen with ``seed``.

    Args:
        dataset (ReferringSegDataset): The split (one item per expression).
        num (int): Scenes to pick.
        seed (int): Random seed.
        split (str): The split's name, for errors.

    Returns:
        list[int]: Item indices (the first expression of each image),
        ascending.
    """
    first_item = {}
    for index in range(len(dataset)):
        first_item.setdefault(dataset.get_data_info(index)['img_path'], index)
    if not 2 <= num <= len(first_item):
        raise ValueError(f'--num must be between 2 and the {len(first_item)} '
                         f'images of the {split} split, got {num}')
    return sorted(random.Random(seed).sample(list(first_item.values()), num))


def referring_metric(cfg, split: str):
    """A fresh ``ReferringSegMetric`` of the config's evaluator of a split.

    Output options (``output_dir``, ``format_only``, ``keep_results``) are
    dropped: only the scores are wanted.
    """
    evaluator = cfg.get(f'{split}_evaluator')
    candidates = evaluator if isinstance(evaluator,
                                         (list, tuple)) else [evaluator]
    found = [
        c for c in candidates if c and c.get('type') == 'ReferringSegMetric'
    ]
    if not found:
        raise ValueError(f'{split}_evaluator of the config has no '
                         'ReferringSegMetric')
    metric_cfg = {
        key: value
        for key, value in found[0].items()
        if key not in ('output_dir', 'format_only', 'keep_results')
    }
    return METRICS.build(metric_cfg)


def score_expressions(model: torch.nn.Module, dataset, items: Sequence[int],
                      donors: Sequence[int], metric,
                      batch_size: int) -> Tuple[List[str], List, float]:
    """Segment each item with the expression of its donor item and score it.

    Args:
        model (torch.nn.Module): The segmentor, in eval mode.
        dataset (ReferringSegDataset): The split, with its test pipeline.
        items (Sequence[int]): Items whose image and target are used.
        donors (Sequence[int]): For each item, the item whose expression
            it gets.
        metric (ReferringSegMetric): A fresh metric.
        batch_size (int): Items per forward pass.

    Returns:
        tuple: The expressions as the model read them, the metric's
        per-expression records, and its mIoU (percent).
    """
    texts = []
    for start in range(0, len(items), batch_size):
        packed = []
        for index, donor in zip(items[start:start + batch_size],
                                donors[start:start + batch_size]):
            info = dataset.get_data_info(index)
            source = dataset.get_data_info(donor)
            for key in EXPRESSION_KEYS:
                if key in source:
                    info[key] = source[key]
            packed.append(dataset.pipeline(info))
        with torch.no_grad():
            outputs = model.test_step(pseudo_collate(packed))
        metric.process(None, outputs)
        texts += [output.metainfo['text'] for output in outputs]
    miou = metric.compute_metrics(metric.results)['mIoU']
    return texts, list(metric.results), miou


def _iou(record) -> Optional[float]:
    return record.intersection / record.union if record.union else None


def text_swap_test(config,
                   checkpoint: Optional[str],
                   num: int = 50,
                   split: str = 'val',
                   seed: int = 0,
                   batch_size: int = 8,
                   device: Optional[str] = None,
                   cfg_options: Optional[dict] = None) -> dict:
    """Score N scenes with their own and with swapped expressions.

    Args:
        config (str | Config): The model's config.
        checkpoint (str, optional): Its checkpoint (loaded strictly); None
            keeps random weights.
        num (int): Scenes. Defaults to 50.
        split (str): ``'val'`` or ``'test'``. Defaults to 'val'.
        seed (int): Seed of the scene choice and the derangement.
            Defaults to 0.
        batch_size (int): Scenes per forward pass. Defaults to 8.
        device (str, optional): Torch device; None: CUDA when available.
            Defaults to None.
        cfg_options (dict, optional): Overrides of the config.
            Defaults to None.

    Returns:
        dict: The fields of the module docstring.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    inferencer = ReferringSegInferencer(
        config, checkpoint=checkpoint, device=device, cfg_options=cfg_options)
    cfg = inferencer.cfg
    dataset = DATASETS.build(cfg[f'{split}_dataloader']['dataset'])
    items = pick_scenes(dataset, num, seed, split)
    donors = [items[j] for j in derangement(len(items), seed)]
    own_texts, own, own_miou = score_expressions(inferencer.model, dataset,
                                                 items, items,
                                                 referring_metric(cfg, split),
                                                 batch_size)
    swapped_texts, swapped, swapped_miou = score_expressions(
        inferencer.model, dataset, items, donors, referring_metric(cfg, split),
        batch_size)
    scenes = [
        dict(
            index=index,
            img_path=dataset.get_data_info(index)['img_path'],
            text=text,
            swapped_from=donor,
            swapped_text=other,
            own_iou=_iou(mine),
            swapped_iou=_iou(theirs))
        for index, donor, text, other, mine, theirs in zip(
            items, donors, own_texts, swapped_texts, own, swapped)
    ]
    return dict(
        kind=TEXT_SWAP_KIND,
        config=config if isinstance(config, str) else cfg.filename,
        checkpoint=checkpoint,
        split=split,
        seed=seed,
        num=len(items),
        own_mIoU=own_miou,
        swapped_mIoU=swapped_miou,
        difference=round(own_miou - swapped_miou, 2),
        same_text=sum(a == b for a, b in zip(own_texts, swapped_texts)),
        scenes=scenes)


def format_text_swap(result: dict) -> str:
    """The two means and their difference, as text."""
    lines = [
        f"text swap on {result['num']} {result['split']} scenes "
        f"(seed {result['seed']}):",
        f"  own expression        mIoU {result['own_mIoU']:6.2f}",
        f"  another scene's       mIoU {result['swapped_mIoU']:6.2f}",
        f"  difference            {result['difference']:6.2f} points",
    ]
    same = result['same_text']
    if same:
        lines.append(f"  ({same} swap{'s' if same > 1 else ''} gave a scene "
                     'the expression it had)')
    return '\n'.join(lines)
