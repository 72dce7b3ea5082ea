"""Referent confusion: a failed expression segmented another referent, or
its own target poorly.

Input: the ``--out`` folder of ``tools/test.py`` (``expressions.csv`` and
one ``<ref_id>_<sent_id>.png`` per expression) on a dataset in the RefSegRS
layout (``images/<ref_id>.tif``, ``masks/<ref_id>.tif``). The referents of
one scene have byte-identical image files, so a scene is the set of
``ref_id`` of the results whose image files have the same content.

For each expression whose scene has another referent, the predicted mask is
compared with its own target mask (the IoU must match the csv's ``iou``
within :data:`IOU_TOLERANCE`) and with each other referent's mask; the
expression is then

* ``right``: own IoU >= 0.5;
* ``other_referent``: own IoU < 0.5 and IoU >= 0.5 with another referent
  of its scene (a grounding error: the wrong object);
* ``target_and_more``: the mask covers at least half of its own target, but
  more than half of the mask lies off it (a grounding error too: the model
  hedges between its target and objects like it, which need not be
  referents, such as a look-alike of the same colour and kind);
* ``poor_mask``: the rest (a segmentation error, or no object at all).
"""
import hashlib
import inspect
import os.path as osp
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..datasets import LoadReferringMask, RefSegRSDataset
from ..utils.portable_paths import REPOSITORY, PortablePaths
from .failure_gallery import (EXPRESSIONS_CSV, ExpressionResult,
                              read_expression_results)
from .precision_agreement import read_predicted_mask
from .results_tables import fmt, markdown_table

RIGHT, OTHER_REFERENT = 'right', 'other_referent'
TARGET_AND_MORE, POOR_MASK = 'target_and_more', 'poor_mask'
CLASSES = (RIGHT, OTHER_REFERENT, TARGET_AND_MORE, POOR_MASK)
#: An IoU at least this high counts as segmenting that referent.
HIT_IOU = 0.5
#: Largest difference allowed between the recomputed and the csv IoU.
IOU_TOLERANCE = 1e-3
#: The group of every analysed expression.
ALL = 'all'
_DATASET_DEFAULTS = inspect.signature(RefSegRSDataset.__init__).parameters


@dataclass(frozen=True)
class ExpressionConfusion:
    """One expression of a scene with several referents.

    Attributes:
        ref_id (str): Its referent.
        sent_id (str): Its sentence.
        groups (tuple[str, ...]): Its test groups and size bin.
        own_iou (float): IoU of the prediction with its own target (0..1).
        best_other_iou (float): The largest IoU of the prediction with
            another referent of the scene (0..1).
        best_other_ref_id (str): That referent.
        own_cover (float): Share of its own target the prediction covers
            (0..1; 0 for an empty target).
        own_precision (float): Share of the prediction on its own target
            (0..1; 0 for an empty prediction).
        referent_class (str): One of :data:`CLASSES`.
    """
    ref_id: str
    sent_id: str
    groups: tuple
    own_iou: float
    best_other_iou: float
    best_other_ref_id: str
    own_cover: float
    own_precision: float
    referent_class: str


@dataclass(frozen=True)
class GroupConfusion:
    """The classes of one group's expressions.

    Attributes:
        name (str): The group (:data:`ALL` for every expression).
        expressions (int): Its expressions.
        mean_own_iou (float): Mean own IoU (%).
        mean_best_other_iou (float): Mean best IoU with another referent (%).
        shares (dict[str, float]): Share (%) of each of :data:`CLASSES`.
    """
    name: str
    expressions: int
    mean_own_iou: float
    mean_best_other_iou: float
    shares: Dict[str, float]


@dataclass(frozen=True)
class ReferentConfusion:
    """The analysis of one test run.

    Attributes:
        expressions (list[ExpressionConfusion]): Those whose scene has
            another referent, in file order.
        groups (list[GroupConfusion]): :data:`ALL` first, then each group
            by name.
        single_referent (int): Expressions left out: their scene has one
            referent.
    """
    expressions: List[ExpressionConfusion]
    groups: List[GroupConfusion]
    single_referent: int


def classify(own_iou: float, best_other_iou: float, own_cover: float,
             own_precision: float) -> str:
    """The class of an expression by the module's rule."""
    if own_iou >= HIT_IOU:
        return RIGHT
    if best_other_iou >= HIT_IOU:
        return OTHER_REFERENT
    if own_cover >= HIT_IOU and own_precision < HIT_IOU:
        return TARGET_AND_MORE
    return POOR_MASK


def _share(part: np.ndarray, whole: np.ndarray) -> float:
    """``|part & whole| / |whole|`` of two boolean maps; 0 for an empty
    ``whole``."""
    size = whole.sum()
    return float(np.logical_and(part, whole).sum() / size) if size else 0.0


def mask_iou(a: np.ndarray, b: np.ndarray) -> Optional[float]:
    """IoU of two boolean maps; None when both are empty."""
    union = np.logical_or(a, b).sum()
    if union == 0:
        return None
    return float(np.logical_and(a, b).sum() / union)


class RefSegRSFiles:
    """Image and target mask files of the referents, as the RefSegRS dataset
    (with its default folders, suffixes and threshold) names and loads them.

    Args:
        data_root (str, optional): The dataset root. Defaults to None: the
            folder above each image's folder, the image being the csv's
            ``img_path`` (relative to the repository).
    """

    def __init__(self, data_root: Optional[str] = None) -> None:
        self.data_root = data_root
        self.folders = RefSegRSDataset.DEFAULT_DATA_PREFIX
        self.mask_suffix = _DATASET_DEFAULTS['seg_map_suffix'].default
        self.mask_threshold = _DATASET_DEFAULTS['mask_threshold'].default
        self.mask_loader = LoadReferringMask(warn_empty=False)
        self._masks: Dict[str, np.ndarray] = {}

    def image(self, result: ExpressionResult, source: str) -> str:
        """The image file of an expression's row."""
        if not result.img_path:
            raise ValueError(f'{source}, line {result.line}: no img_path')
        if self.data_root is not None:
            return osp.join(self.data_root, self.folders['img_path'],
                            osp.basename(result.img_path))
        return osp.join(REPOSITORY, result.img_path)

    def mask(self, ref_id: str, image: str) -> np.ndarray:
        """The target mask of ``ref_id`` (boolean), read once."""
        if ref_id not in self._masks:
            root = self.data_root or osp.dirname(osp.dirname(image))
            path = osp.join(root, self.folders['seg_map_path'],
                            ref_id + self.mask_suffix)
            item = dict(
                seg_map_path=path,
                mask_threshold=self.mask_threshold,
                img_path=image)
            self._masks[ref_id] = self.mask_loader(item)['gt_seg_map'] == 1
        return self._masks[ref_id]


def _file_digest(path: str) -> str:
    try:
        with open(path, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError as error:
        raise FileNotFoundError(
            f'cannot read image {path}: {error}') from error


def scene_referents(images: Dict[str, str]) -> Dict[str, List[str]]:
    """The referents of each referent's scene (itself included).

    Args:
        images (dict[str, str]): ``ref_id`` -> its image file.

    Returns:
        dict[str, list[str]]: ``ref_id`` -> the ``ref_id`` whose image files
        have the same bytes, in the order of ``images``.
    """
    scenes = defaultdict(list)
    digests = {}
    for ref_id, path in images.items():
        digests[ref_id] = _file_digest(path)
        scenes[digests[ref_id]].append(ref_id)
    return {ref_id: scenes[digest] for ref_id, digest in digests.items()}


def _expression_confusion(result: ExpressionResult, prediction_path: str,
                          scene: Sequence[str], images: Dict[str, str],
                          files: RefSegRSFiles) -> ExpressionConfusion:
    prediction = read_predicted_mask(prediction_path)
    ious = {}
    for ref_id in scene:
        target = files.mask(ref_id, images[ref_id])
        if target.shape != prediction.shape:
            raise ValueError(f'{prediction_path} has size '
                             f'{prediction.shape}, the mask of referent '
                             f'{ref_id} {target.shape}')
        ious[ref_id] = mask_iou(prediction, target)
    own = ious.pop(result.ref_id)
    if own is None:  # both empty: the scoring protocol's IoU
        own = result.iou
    if abs(own - result.iou) > IOU_TOLERANCE:
        raise ValueError(
            f'{prediction_path}: IoU {own:.6f} with the mask of referent '
            f'{result.ref_id}, but {result.iou:.6f} in {EXPRESSIONS_CSV} '
            f'(line {result.line}): the masks are not those the run scored '
            '(another run, or another --data-root)')
    other, best = max(((ref, iou or 0.0) for ref, iou in ious.items()),
                      key=lambda pair: pair[1])
    target = files.mask(result.ref_id, images[result.ref_id])
    cover, precision = _share(prediction, target), _share(target, prediction)
    return ExpressionConfusion(result.ref_id, result.sent_id, result.groups,
                               own, best, other, cover, precision,
                               classify(own, best, cover, precision))


def summarize(
        expressions: Sequence[ExpressionConfusion]) -> List[GroupConfusion]:
    """Per group (:data:`ALL` first, then by name): means and shares.

    Args:
        expressions (Sequence[ExpressionConfusion]): Analysed expressions.

    Returns:
        list[GroupConfusion]: One per group an expression belongs to.
    """
    names = [ALL] + sorted({g for e in expressions for g in e.groups})
    table = []
    for name in names:
        members = [e for e in expressions if name == ALL or name in e.groups]
        if not members:
            continue
        count = len(members)
        table.append(
            GroupConfusion(
                name, count, 100 * sum(e.own_iou for e in members) / count,
                100 * sum(e.best_other_iou for e in members) / count, {
                    c: 100 * sum(e.referent_class == c
                                 for e in members) / count
                    for c in CLASSES
                }))
    return table


def referent_confusion(results_dir: str,
                       data_root: Optional[str] = None) -> ReferentConfusion:
    """Classify the expressions of a test run by the module's rule.

    Args:
        results_dir (str): The ``--out`` folder of ``tools/test.py``.
        data_root (str, optional): The dataset root (RefSegRS layout).
            Defaults to None (found from the csv's ``img_path``).

    Returns:
        ReferentConfusion: Per expression and per group.

    Raises:
        FileNotFoundError: A missing csv, image, mask or prediction file.
        ValueError: A recomputed IoU that disagrees with the csv's, or masks
            of different sizes; the message names the file.
    """
    results = read_expression_results(results_dir)
    source = osp.join(results_dir, EXPRESSIONS_CSV)
    files = RefSegRSFiles(data_root)
    images = {r.ref_id: files.image(r, source) for r in results}
    scenes = scene_referents(images)
    expressions = [
        _expression_confusion(
            r, osp.join(results_dir, f'{r.ref_id}_{r.sent_id}.png'),
            scenes[r.ref_id], images, files) for r in results
        if len(scenes[r.ref_id]) > 1
    ]
    if not expressions:
        raise ValueError(f'{source}: no scene has two referents (no two '
                         'image files have the same content)')
    return ReferentConfusion(expressions, summarize(expressions),
                             len(results) - len(expressions))


def referent_confusion_table(result: ReferentConfusion) -> str:
    """The per-group table of :func:`referent_confusion`, in markdown."""
    rows = [[
        g.name, g.expressions,
        fmt(g.mean_own_iou),
        fmt(g.mean_best_other_iou), *[fmt(g.shares[c], 1) for c in CLASSES]
    ] for g in result.groups]
    return markdown_table([
        'group', 'expressions', 'own IoU (%)', 'best other IoU (%)',
        *[f'{c} (%)' for c in CLASSES]
    ], rows)


def render_referent_confusion_block(
        result: ReferentConfusion,
        command: Sequence[str],
        paths: Optional[PortablePaths] = None) -> str:
    """The table, the rule and the command that produced it, in markdown.

    Args:
        result (ReferentConfusion): The analysis.
        command (Sequence[str]): The command line's arguments.
        paths (PortablePaths, optional): How paths are written. Defaults to
            relative to this repository (or ``$WORK``).

    Returns:
        str: The block; an absolute path in it is refused.
    """
    paths = paths or PortablePaths()
    analysed = len(result.expressions)
    note = (f'{analysed} of the {analysed + result.single_referent} '
            'expressions have a scene with another referent. `right`: own '
            f'IoU >= {HIT_IOU}; `other_referent`: own IoU < {HIT_IOU} and '
            f'IoU >= {HIT_IOU} with another referent of the scene; '
            f'`target_and_more`: the mask covers >= {HIT_IOU} of its own '
            f'target, but less than {HIT_IOU} of the mask lies on it; '
            '`poor_mask`: the rest.')
    block = (f'{referent_confusion_table(result)}\n\n{note}\n\nProduced by:'
             f'\n\n- `{paths.command(command)}`')
    return paths.refuse_absolute(block, 'the referent confusion block')
