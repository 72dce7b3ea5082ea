"""Does CCR's landmark relation term look at the landmark?

With ``model.refiner.relation_prior=True`` CCR finds the landmark an
expression names (:class:`LandmarkRelationPrior`): a map over the patches,
summing to 1. On the synthetic scenes the generator writes each
expression's landmark boxes, so the map can be checked against them, per
expression whose relation names a landmark:

* ``mass``: the share of the map on the landmark's cells (a cell is the
  landmark's when a landmark pixel falls in it);
* ``uniform``: that share for a uniform map (the landmark cells' share of
  the grid), the chance level of ``mass``;
* ``peak``: whether the map's largest cell is a landmark cell.

Each is averaged (in percent) over all such expressions and over each
test group (``tags``) of them. The result (``kind``
``'sgsrf-landmark-grounding'``) holds ``config``, ``checkpoint``,
``split``, ``groups``: ``{group: {expressions, mass, uniform, peak}}``.
"""
import copy
from typing import Dict, List, Optional

import torch
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS

from ..apis import ReferringSegInferencer
from ..models.losses.landmark_structure import landmark_cells

LANDMARK_GROUNDING_KIND = 'sgsrf-landmark-grounding'
#: The group of every expression with a landmark.
ALL = 'all'


def with_landmark_map(pipeline: List[dict]) -> List[dict]:
    """``pipeline`` that draws the landmark map once the image is loaded
    (before it is resized)."""
    types = [step['type'] for step in pipeline]
    if 'LoadLandmarkMap' in types:
        return pipeline
    at = types.index('LoadRasterImage') + 1
    return pipeline[:at] + [dict(type='LoadLandmarkMap')] + pipeline[at:]


def landmark_rows(model: torch.nn.Module, batch: List[dict]) -> List[dict]:
    """``mass``, ``uniform``, ``peak`` and ``tags`` of each sample of a
    packed batch whose expression names a landmark."""
    data = model.data_preprocessor(pseudo_collate(batch), False)
    samples = data['data_samples']
    with torch.no_grad():
        grounding = model.ground(data['inputs'],
                                 [s.metainfo['text']
                                  for s in samples]).grounding
    if grounding.landmark is None:
        raise ValueError('the model has no landmark relation term: '
                         'train it with model.refiner.relation_prior=True')
    grid = tuple(grounding.cue_logits.shape[-2:])
    maps = torch.stack([s.gt_landmark_map.data[0] for s in samples])
    cells = landmark_cells(maps.to(grounding.cue_logits.device), grid)
    weights = grounding.landmark.patch_weights.float()
    rows = []
    for sample, on, weight in zip(samples, cells, weights):
        if float(on.sum()) == 0:
            continue
        rows.append(
            dict(
                mass=float((weight * on).sum()),
                uniform=float(on.mean()),
                peak=float(on[weight.argmax()]),
                tags=tuple(sample.metainfo.get('tags') or ())))
    return rows


def summarise(rows: List[dict]) -> Dict[str, dict]:
    """Mean ``mass``, ``uniform`` and ``peak`` (percent) per group."""
    groups = {ALL: rows}
    for row in rows:
        for tag in row['tags']:
            groups.setdefault(tag, []).append(row)
    return {
        name:
        dict(
            expressions=len(members),
            **{
                key: round(100 * sum(r[key]
                                     for r in members) / len(members), 2)
                for key in ('mass', 'uniform', 'peak')
            })
        for name, members in groups.items()
    }


def landmark_grounding(config,
                       checkpoint: Optional[str],
                       split: str = 'test',
                       batch_size: int = 8,
                       device: Optional[str] = None,
                       cfg_options: Optional[dict] = None) -> dict:
    """Check CCR's landmark map against the landmark boxes of a split.

    Args:
        config (str | Config): The model's config (its dataset must give
            ``landmark_boxes``: :class:`SyntheticRefSegRSDataset`).
        checkpoint (str, optional): Its checkpoint (loaded strictly); None
            keeps random weights.
        split (str): ``'val'`` or ``'test'``. Defaults to 'test'.
        batch_size (int): Expressions per forward pass. Defaults to 8.
        device (str, optional): Torch device; None: CUDA when available.
            Defaults to None.
        cfg_options (dict, optional): Overrides of the config.
            Defaults to None.

    Returns:
        dict: The fields of the module docstring.
    """
    inferencer = ReferringSegInferencer(
        config, checkpoint=checkpoint, device=device, cfg_options=cfg_options)
    cfg = inferencer.cfg
    dataset_cfg = copy.deepcopy(cfg[f'{split}_dataloader']['dataset'])
    dataset_cfg['pipeline'] = with_landmark_map(dataset_cfg['pipeline'])
    dataset = DATASETS.build(dataset_cfg)
    rows = []
    for start in range(0, len(dataset), batch_size):
        batch = [
            dataset[i]
            for i in range(start, min(start + batch_size, len(dataset)))
        ]
        rows += landmark_rows(inferencer.model, batch)
    if not rows:
        raise ValueError(f'no expression of the {split} split names a '
                         'landmark')
    return dict(
        kind=LANDMARK_GROUNDING_KIND,
        config=config if isinstance(config, str) else cfg.filename,
        checkpoint=checkpoint,
        split=split,
        groups=summarise(rows))


def format_landmark_grounding(result: dict) -> str:
    """A plain-text table of the groups."""
    lines = [
        f'{"group":28s} {"expressions":>11s} {"mass %":>7s} '
        f'{"uniform %":>9s} {"peak %":>7s}'
    ]
    for name, row in result['groups'].items():
        lines.append(f'{name:28s} {row["expressions"]:11d} '
                     f'{row["mass"]:7.2f} {row["uniform"]:9.2f} '
                     f'{row["peak"]:7.2f}')
    return '\n'.join(lines)
