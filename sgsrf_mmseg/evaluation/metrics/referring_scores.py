"""Arithmetic of the referring metrics: per-expression counts to scores.

Pure functions over :class:`ReferringRecord` (no masks, no tensors): IoU per
expression, overall IoU, ``Prec@X``, target-size bins, the grounding
measures (pointing accuracy and drift, where the model gives a cue) and the
breakdown by size, category and test group. :func:`summarize_records`
computes everything once; the metric's numbers, its printed tables and the
results file all read the one :class:`ReferringSummary`.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

#: Target-size bins: name -> [low, high) share of the image the ground truth
#: covers (the last bin also holds a share of exactly 1.0).
DEFAULT_SIZE_BINS: Dict[str, Tuple[float, float]] = OrderedDict(
    small=(0.0, 0.01), medium=(0.01, 0.10), large=(0.10, 1.0))
DEFAULT_IOU_THRS: Tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)
PREC_RULES = ('>=', '>')
#: What a group reports, in order (``pointing``/``drift`` where measured).
GROUP_MEASURES = ('mIoU', 'oIoU', 'pointing', 'drift')


class ReferringRecord(NamedTuple):
    """Counts kept for one expression (no masks).

    Attributes:
        intersection (int): Target pixels predicted as target.
        union (int): Pixels that are target in the prediction or the ground
            truth.
        gt_area (int): Target pixels in the ground truth.
        image_area (int): Scored pixels (ignore pixels excluded).
        category (str, optional): Category of the referred object.
        ref_id (Any): Reference id.
        sent_id (Any): Sentence id.
        img_path (str, optional): Image file of the expression.
        tags (tuple[str, ...]): Test groups the expression belongs to
            (e.g. ``'relation'``), besides its category.
        pointing (bool, optional): Whether the peak of the grounding cue
            falls on the target (None: the model gives no cue).
        drift (float, optional): Share of the predicted mask outside the
            cue's region (None: no cue, or an empty prediction).
    """
    intersection: int
    union: int
    gt_area: int
    image_area: int
    category: Optional[str] = None
    ref_id: Any = None
    sent_id: Any = None
    img_path: Optional[str] = None
    tags: Tuple[str, ...] = ()
    pointing: Optional[bool] = None
    drift: Optional[float] = None

    @property
    def pred_area(self) -> int:
        """Pixels predicted as target."""
        return self.union + self.intersection - self.gt_area


@dataclass
class GroupScore:
    """Scores of a group of expressions (a size bin, category or tag).

    Attributes:
        count (int): Expressions in the group.
        mIoU (float): Mean IoU, percent with two decimals.
        oIoU (float): Overall IoU, percent with two decimals.
        pointing (float, optional): Pointing accuracy, percent (None when
            the model gives no cue).
        drift (float, optional): Mean drift, percent (None without a cue
            or without a non-empty prediction).
    """
    count: int
    mIoU: float
    oIoU: float
    pointing: Optional[float] = None
    drift: Optional[float] = None


@dataclass
class ReferringSummary:
    """Everything the metric reports, computed once.

    Attributes:
        expressions (int): Number of scored expressions.
        overall (dict[str, float]): ``mIoU``, ``oIoU``, ``Prec@X`` and,
            where the model gives a grounding cue, ``pointing`` and
            ``drift``; percent with two decimals.
        groups (dict[str, GroupScore]): Size bins by their name (``small``,
            ..., ``empty`` for an empty ground truth), then categories and
            tags as ``@<name>``.
    """
    expressions: int
    overall: Dict[str, float]
    groups: Dict[str, GroupScore] = field(default_factory=OrderedDict)

    def to_metrics(self) -> Dict[str, float]:
        """The flat metric dict: overall scores, then per group
        ``mIoU_<bin>`` / ``oIoU_<bin>`` and ``mIoU@<name>`` /
        ``oIoU@<name>`` (and ``pointing``/``drift`` likewise, where
        measured)."""
        metrics = OrderedDict(self.overall)
        for name, score in self.groups.items():
            suffix = name if name.startswith('@') else f'_{name}'
            for key in GROUP_MEASURES:
                if getattr(score, key) is not None:
                    metrics[f'{key}{suffix}'] = getattr(score, key)
        return metrics


def percent(value: float) -> float:
    """``value`` x 100, rounded to two decimals."""
    return round(float(value) * 100, 2)


def expression_ious(records: Sequence[ReferringRecord],
                    empty_union_iou: float) -> np.ndarray:
    """IoU of each expression; ``empty_union_iou`` where the union is 0."""
    inter = np.array([r.intersection for r in records], dtype=np.float64)
    union = np.array([r.union for r in records], dtype=np.float64)
    ious = np.full(len(records), float(empty_union_iou))
    nonempty = union > 0
    ious[nonempty] = inter[nonempty] / union[nonempty]
    return ious


def overall_iou(records: Sequence[ReferringRecord],
                empty_union_iou: float) -> float:
    """Sum of intersections over sum of unions (``empty_union_iou`` if 0)."""
    union = sum(r.union for r in records)
    if union == 0:
        return float(empty_union_iou)
    return sum(r.intersection for r in records) / union


def precision_at(ious: np.ndarray, thr: float, prec_rule: str) -> float:
    """Share of expressions whose IoU passes ``thr`` under ``prec_rule``."""
    hits = ious >= thr if prec_rule == '>=' else ious > thr
    return float(hits.mean())


def pointing_accuracy(records: Sequence[ReferringRecord]) -> Optional[float]:
    """Share of expressions whose cue peak falls on the target (None when
    no record has a cue)."""
    hits = [r.pointing for r in records if r.pointing is not None]
    return float(np.mean(hits)) if hits else None


def mean_drift(records: Sequence[ReferringRecord]) -> Optional[float]:
    """Mean share of the predicted mask outside the cue's region over the
    expressions that have one (None when none has)."""
    drifts = [r.drift for r in records if r.drift is not None]
    return float(np.mean(drifts)) if drifts else None


def _percent_or_none(value: Optional[float]) -> Optional[float]:
    return None if value is None else percent(value)


def score_group(records: Sequence[ReferringRecord],
                empty_union_iou: float) -> GroupScore:
    """Count, mIoU, oIoU and the grounding measures of some expressions."""
    return GroupScore(
        count=len(records),
        mIoU=percent(expression_ious(records, empty_union_iou).mean()),
        oIoU=percent(overall_iou(records, empty_union_iou)),
        pointing=_percent_or_none(pointing_accuracy(records)),
        drift=_percent_or_none(mean_drift(records)))


def size_bin_of(record: ReferringRecord,
                size_bins: Dict[str, Sequence[float]]) -> str:
    """Name the target-size bin of one expression.

    The share is ``gt_area / image_area``. Bins are half-open ``[low, high)``;
    a share of 1.0 falls in the bin whose ``high`` is at least 1.0. An
    expression whose ground truth is empty goes to the bin ``'empty'``.

    Args:
        record (ReferringRecord): Counts of the expression.
        size_bins (dict): Bin name -> (low, high) shares.

    Returns:
        str: The bin name, or ``'empty'``.
    """
    if record.gt_area == 0 or record.image_area == 0:
        return 'empty'
    share = record.gt_area / record.image_area
    for name, (low, high) in size_bins.items():
        if low <= share < high or (share >= 1.0 and high >= 1.0):
            return name
    raise ValueError(f'target share {share:.6f} (ref_id={record.ref_id}, '
                     f'sent_id={record.sent_id}) falls in none of the '
                     f'size_bins {dict(size_bins)}')


def record_groups(record: ReferringRecord) -> List[str]:
    """The groups an expression belongs to: its category, then its tags."""
    names = [record.category] if record.category is not None else []
    return names + [t for t in record.tags if t not in names]


def group_records(records: Sequence[ReferringRecord],
                  size_bins: Dict[str, Sequence[float]],
                  by_category: bool) -> Dict[str, List[ReferringRecord]]:
    """Split the records by size bin, then by category and tag.

    Args:
        records (Sequence[ReferringRecord]): The expressions.
        size_bins (dict): Bin name -> (low, high); empty: no size groups.
        by_category (bool): Add ``@<name>`` groups for the category and
            the tags of each record (a record is in every group it names).

    Returns:
        dict[str, list]: Non-empty groups, size bins in their order then
        ``empty``, then categories and tags sorted by name.
    """
    groups: Dict[str, List[ReferringRecord]] = OrderedDict()
    if size_bins:
        for name in list(size_bins) + ['empty']:
            groups[name] = []
        for record in records:
            groups[size_bin_of(record, size_bins)].append(record)
    if by_category:
        categories: Dict[str, List[ReferringRecord]] = {}
        for record in records:
            for name in record_groups(record):
                categories.setdefault(f'@{name}', []).append(record)
        groups.update(sorted(categories.items()))
    return OrderedDict((k, v) for k, v in groups.items() if v)


def check_size_bins(size_bins: Dict[str, Sequence[float]]) -> None:
    """Reject bins that are not ``name -> (low, high)`` with low < high."""
    for name, bounds in size_bins.items():
        if name.startswith('@') or name == 'empty':
            raise ValueError(f'size_bins: the name {name!r} is reserved '
                             "('empty' and '@...' name other groups)")
        if len(bounds) != 2 or not 0 <= bounds[0] < bounds[1]:
            raise ValueError(f'size_bins[{name!r}] = {bounds!r}: expected '
                             '(low, high) shares with 0 <= low < high')


def summarize_records(records: Sequence[ReferringRecord],
                      iou_thrs: Sequence[float] = DEFAULT_IOU_THRS,
                      prec_rule: str = '>=',
                      empty_union_iou: float = 0.0,
                      size_bins: Optional[Dict[str, Sequence[float]]] = None,
                      by_category: bool = True) -> ReferringSummary:
    """Score a split from its per-expression counts.

    Args:
        records (Sequence[ReferringRecord | tuple]): One record per
            expression (plain tuples in :class:`ReferringRecord` order work).
        iou_thrs (Sequence[float]): Thresholds of ``Prec@X``.
            Defaults to (0.5, 0.6, 0.7, 0.8, 0.9).
        prec_rule (str): ``'>='`` counts an expression at ``Prec@X`` when its
            IoU >= X (LAVT, RMSIN); ``'>'`` when IoU > X (RSRefSeg).
            Defaults to '>='.
        empty_union_iou (float): IoU of an expression whose ground truth and
            prediction are both empty. Defaults to 0.0 (as LAVT).
        size_bins (dict, optional): Bin name -> [low, high) share of the image
            covered by the ground truth; an empty dict disables the size
            breakdown. Defaults to None (:data:`DEFAULT_SIZE_BINS`: small < 1%,
            medium 1-10%, large >= 10%).
        by_category (bool): Add the per-category (and per-tag) breakdown
            for records that carry one. Defaults to True.

    Returns:
        ReferringSummary: Overall scores, and per group its count, mIoU,
        oIoU and grounding measures.
    """
    if prec_rule not in PREC_RULES:
        raise ValueError(f"prec_rule must be '>=' or '>', got {prec_rule!r}")
    if not records:
        raise ValueError('no expressions were scored: the evaluator received '
                         'no samples')
    size_bins = DEFAULT_SIZE_BINS if size_bins is None else size_bins
    check_size_bins(size_bins)
    records = [ReferringRecord(*r) for r in records]
    ious = expression_ious(records, empty_union_iou)
    overall: Dict[str, float] = OrderedDict(
        mIoU=percent(ious.mean()),
        oIoU=percent(overall_iou(records, empty_union_iou)))
    for thr in iou_thrs:
        overall[f'Prec@{thr:g}'] = percent(precision_at(ious, thr, prec_rule))
    everything = score_group(records, empty_union_iou)
    for key in ('pointing', 'drift'):
        if getattr(everything, key) is not None:
            overall[key] = getattr(everything, key)
    groups = OrderedDict((name, score_group(members, empty_union_iou))
                         for name, members in group_records(
                             records, size_bins, by_category).items())
    return ReferringSummary(len(records), overall, groups)


def expression_rows(records: Sequence[ReferringRecord], empty_union_iou: float,
                    size_bins: Dict[str, Sequence[float]]) -> List[dict]:
    """One row per expression for the kept per-expression file.

    Args:
        records (Sequence[ReferringRecord]): The expressions.
        empty_union_iou (float): IoU where the union is empty.
        size_bins (dict): Bins of the ``size_bin`` column (empty: none).

    Returns:
        list[dict]: ``ref_id, sent_id, category, img_path, iou,
        intersection, union, pred_area, gt_area, image_area, size_bin``,
        ``groups`` (category and tags joined by ``;``), ``pointing`` (1, 0,
        or None without a cue) and ``drift`` (None where not measured).
    """
    records = [ReferringRecord(*r) for r in records]
    ious = expression_ious(records, empty_union_iou)
    return [
        dict(
            ref_id=r.ref_id,
            sent_id=r.sent_id,
            category=r.category,
            img_path=r.img_path,
            iou=round(float(iou), 6),
            intersection=r.intersection,
            union=r.union,
            pred_area=r.pred_area,
            gt_area=r.gt_area,
            image_area=r.image_area,
            size_bin=size_bin_of(r, size_bins) if size_bins else None,
            groups=';'.join(record_groups(r)),
            pointing=None if r.pointing is None else int(r.pointing),
            drift=None if r.drift is None else round(float(r.drift), 6))
        for r, iou in zip(records, ious)
    ]
