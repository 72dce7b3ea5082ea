"""The per-expression results of a test run (``expressions.csv``).

``tools/test.py --out DIR`` (``ReferringSegMetric(keep_results=True)``)
writes one row per expression: ``ref_id``, ``sent_id``, ``category``,
``img_path``, ``iou`` (the IoU the metric computed), counts, ``size_bin``
and, where the metric reports them, ``pointing`` (1 hit, 0 miss, empty
without a cue), ``drift`` and ``groups`` (test groups separated by ``;``).
This module reads them, ranks the failures and sums them up by group.
"""
import csv
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

#: File name the metric writes.
EXPRESSIONS_CSV = 'expressions.csv'
REQUIRED_COLUMNS = ('ref_id', 'sent_id', 'iou')
#: An expression fails when its IoU is below this (a miss of Prec@0.5).
FAILURE_IOU = 0.5


@dataclass
class ExpressionResult:
    """One row of ``expressions.csv``.

    Attributes:
        ref_id (str): Reference id (as written).
        sent_id (str): Sentence id (as written).
        iou (float): The expression's IoU (0..1) from the metric.
        img_path (str): Its image file.
        groups (tuple[str, ...]): Its test groups: those of the ``groups``
            column when the file has one, else its ``category``; then its
            ``size_bin``.
        pointing (bool, optional): Whether the cue's peak hit the target
            (None: no such column, or no cue).
        drift (float, optional): The ``drift`` column (None: none there,
            or empty).
        line (int): Line of the file (for messages).
    """
    ref_id: str
    sent_id: str
    iou: float
    img_path: str
    groups: tuple
    pointing: Optional[bool]
    drift: Optional[float]
    line: int

    @property
    def key(self) -> tuple:
        """``(ref_id, sent_id)`` as strings."""
        return self.ref_id, self.sent_id


def _groups(row: Dict[str, str]) -> tuple:
    """The ``groups`` column's (else ``category``), then ``size_bin``."""
    if 'groups' in row:
        names = (row['groups'] or '').split(';')
    else:
        names = [row.get('category') or '']
    names.append(row.get('size_bin') or '')
    return tuple(dict.fromkeys(n for n in names if n))


def _pointing(value: Optional[str], where: str) -> Optional[bool]:
    if value is None or value == '':
        return None
    if value not in ('0', '1'):
        raise ValueError(f'{where}: pointing must be 1, 0 or empty, got '
                         f'{value!r}')
    return value == '1'


def _number(value: Optional[str], name: str, where: str) -> Optional[float]:
    if value is None or value == '':
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f'{where}: {name} {value!r} is not a number') \
            from None


def read_expression_results(path: str) -> List[ExpressionResult]:
    """Read ``expressions.csv`` (the file, or the folder that holds it).

    Args:
        path (str): The file or the ``--out`` folder of ``tools/test.py``.

    Returns:
        list[ExpressionResult]: One per row, in file order.

    Raises:
        FileNotFoundError: No such file.
        ValueError: A missing column or a bad value, naming file and line.
    """
    if osp.isdir(path):
        path = osp.join(path, EXPRESSIONS_CSV)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'per-expression results not found: {path} (tools/test.py '
            'CONFIG CKPT --out DIR writes DIR/expressions.csv)')
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        missing = [
            c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise ValueError(f'{path}: no column(s) {missing}; is it the '
                             'expressions.csv of tools/test.py --out?')
        results = []
        for row in reader:
            where = f'{path}, line {reader.line_num}'
            iou = _number(row['iou'], 'iou', where)
            if iou is None or not 0.0 <= iou <= 1.0:
                raise ValueError(
                    f'{where}: iou {row["iou"]!r} is not in [0, 1]')
            results.append(
                ExpressionResult(row['ref_id'], row['sent_id'], iou,
                                 row.get('img_path') or '', _groups(row),
                                 _pointing(row.get('pointing'), where),
                                 _number(row.get('drift'), 'drift', where),
                                 reader.line_num))
    if not results:
        raise ValueError(f'{path} has no expressions')
    return results


def rank_failures(results: Sequence[ExpressionResult],
                  worst: int,
                  group: Optional[str] = None) -> List[ExpressionResult]:
    """The ``worst`` expressions by IoU (lowest first), of ``group`` if set.

    Ties keep the file's order.

    Args:
        results (Sequence[ExpressionResult]): All expressions.
        worst (int): How many.
        group (str, optional): Only expressions of this group.
            Defaults to None.

    Returns:
        list[ExpressionResult]: The worst, sorted by IoU.
    """
    chosen = [r for r in results if group is None or group in r.groups]
    if group is not None and not chosen:
        known = sorted({g for r in results for g in r.groups})
        raise ValueError(f'no expression of group {group!r}; the groups '
                         f'are {known}')
    return sorted(chosen, key=lambda r: r.iou)[:worst]


@dataclass
class GroupFailures:
    """The failures of one group.

    Attributes:
        name (str): The group.
        expressions (int): Its expressions.
        failures (int): Those with IoU below :data:`FAILURE_IOU`.
        mean_iou (float): Its mean IoU (0..1).
        pointing_hits (int): Expressions whose cue peak hit the target.
        pointing_known (int): Expressions with a pointing result.
        shown (int): Its expressions among the shown ones.
    """
    name: str
    expressions: int
    failures: int
    mean_iou: float
    pointing_hits: int
    pointing_known: int
    shown: int


def failures_by_group(
    results: Sequence[ExpressionResult],
    shown: Sequence[ExpressionResult] = ()
) -> List[GroupFailures]:
    """Failures per group, the most failing share first.

    Args:
        results (Sequence[ExpressionResult]): All expressions.
        shown (Sequence[ExpressionResult]): Those on the page.

    Returns:
        list[GroupFailures]: One per group (an expression counts in each
        of its groups), sorted by failure share, then name.
    """
    shown_keys = {r.key for r in shown}
    names = sorted({g for r in results for g in r.groups})
    table = []
    for name in names:
        members = [r for r in results if name in r.groups]
        known = [r for r in members if r.pointing is not None]
        table.append(
            GroupFailures(name, len(members),
                          sum(r.iou < FAILURE_IOU for r in members),
                          sum(r.iou for r in members) / len(members),
                          sum(bool(r.pointing) for r in known), len(known),
                          sum(r.key in shown_keys for r in members)))
    return sorted(table, key=lambda g: (-g.failures / g.expressions, g.name))
