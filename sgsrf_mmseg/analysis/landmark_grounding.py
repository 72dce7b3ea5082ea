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
* ``peak``: whether the map's largest cell is a landmark cell;
* ``pointing``: whether the cue's peak cell holds a target pixel (the
  test metric's pointing, at the original image size);
* ``pointing_without_relation``: the same for the cue without the
  relation term, which says what the term adds.

Each is averaged (in percent) over all such expressions and over each
test group (``tags``) of them; each group is also split by whether the
map's peak found the landmark (``<group>, landmark found`` and
``<group>, landmark missed``), since the term can only place the target
from a landmark it found. The result (``kind``
``'sgsrf-landmark-grounding'``) holds ``config``, ``checkpoint``,
``split``, ``groups``: ``{group: {expressions, mass, uniform, peak,
pointing, pointing_without_relation}}``.
"""
import copy
from typing import Dict, List, Optional

import torch
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS

from ..apis import ReferringSegInferencer
from ..evaluation.metrics import cue_on_original
from ..models.losses.landmark_structure import landmark_cells
from ..utils.cue_region import peak_cells

LANDMARK_GROUNDING_KIND = 'sgsrf-landmark-grounding'
#: The group of every expression with a landmark.
ALL = 'all'
#: The measures of each row, averaged per group.
MEASURES = ('mass', 'uniform', 'peak', 'pointing', 'pointing_without_relation')


def with_landmark_map(pipeline: List[dict]) -> List[dict]:
    """``pipeline`` that draws the landmark map once the image is loaded
    (before it is resized)."""
    types = [step['type'] for step in pipeline]
    if 'LoadLandmarkMap' in types:
        return pipeline
    at = types.index('LoadRasterImage') + 1
    return pipeline[:at] + [dict(type='LoadLandmarkMap')] + pipeline[at:]


def points_at_target(cue_logits: torch.Tensor, sample) -> float:
    """1.0 when the cue's peak cell holds a target pixel of ``sample``."""
    cue = cue_on_original(cue_logits, sample.metainfo)
    target = sample.gt_sem_seg.data[0].to(cue.device) == 1
    return float((peak_cells(cue) & target).any())


def landmark_rows(model: torch.nn.Module, batch: List[dict]) -> List[dict]:
    """The measures (:data:`MEASURES`) and ``tags`` of each sample of a
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
    cues = grounding.cue_logits.float()
    without = cues - grounding.relation_logits.float()
    rows = []
    for sample, on, weight, cue, rest in zip(samples, cells, weights, cues,
                                             without):
        if float(on.sum()) == 0:
            continue
        rows.append(
            dict(
                mass=float((weight * on).sum()),
                uniform=float(on.mean()),
                peak=float(on[weight.argmax()]),
                pointing=points_at_target(cue, sample),
                pointing_without_relation=points_at_target(rest, sample),
                tags=tuple(sample.metainfo.get('tags') or ())))
    return rows


def summarise(rows: List[dict]) -> Dict[str, dict]:
    """Mean measures (percent) per group, and per group split by whether
    the landmark was found (``peak``)."""
    groups = {ALL: rows}
    for row in rows:
        for tag in row['tags']:
            groups.setdefault(tag, []).append(row)
    split = {}
    for name, members in groups.items():
        split[name] = members
        for outcome, found in (('found', 1.0), ('missed', 0.0)):
            part = [r for r in members if r['peak'] == found]
            if part:
                split[f'{name}, landmark {outcome}'] = part
    return {
        name:
        dict(
            expressions=len(members),
            **{
                key: round(100 * sum(r[key]
                                     for r in members) / len(members), 2)
                for key in MEASURES
            })
        for name, members in split.items()
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
    width = max(len(name) for name in result['groups'])
    lines = [
        f'{"group":{width}s} {"expressions":>11s} {"mass %":>7s} '
        f'{"uniform %":>9s} {"peak %":>7s} {"pointing %":>10s} '
        f'{"without term %":>17s}'
    ]
    for name, row in result['groups'].items():
        lines.append(f'{name:{width}s} {row["expressions"]:11d} '
                     f'{row["mass"]:7.2f} {row["uniform"]:9.2f} '
                     f'{row["peak"]:7.2f} {row["pointing"]:10.2f} '
                     f'{row["pointing_without_relation"]:17.2f}')
    return '\n'.join(lines)
