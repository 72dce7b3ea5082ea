"""Per-expression IoU metrics for referring segmentation."""
import os.path as osp
from collections import OrderedDict
from typing import (Any, Dict, List, NamedTuple, Optional, Sequence, Tuple,
                    Union)

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from prettytable import PrettyTable

from mmseg.registry import METRICS

#: Target-size bins: name -> [low, high) share of the image the ground truth
#: covers (the last bin also holds a share of exactly 1.0).
DEFAULT_SIZE_BINS: Dict[str, Tuple[float, float]] = OrderedDict(
    small=(0.0, 0.01), medium=(0.01, 0.10), large=(0.10, 1.0))
DEFAULT_IOU_THRS: Tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)


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
    """
    intersection: int
    union: int
    gt_area: int
    image_area: int
    category: Optional[str] = None
    ref_id: Any = None
    sent_id: Any = None


def _expression_ious(records: Sequence[ReferringRecord],
                     empty_union_iou: float) -> np.ndarray:
    inter = np.array([r.intersection for r in records], dtype=np.float64)
    union = np.array([r.union for r in records], dtype=np.float64)
    ious = np.full(len(records), float(empty_union_iou))
    nonempty = union > 0
    ious[nonempty] = inter[nonempty] / union[nonempty]
    return ious


def _overall_iou(records: Sequence[ReferringRecord],
                 empty_union_iou: float) -> float:
    union = sum(r.union for r in records)
    if union == 0:
        return float(empty_union_iou)
    return sum(r.intersection for r in records) / union


def _percent(value: float) -> float:
    return round(float(value) * 100, 2)


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


def compute_referring_metrics(records: Sequence[Union[ReferringRecord, tuple]],
                              iou_thrs: Sequence[float] = DEFAULT_IOU_THRS,
                              prec_rule: str = '>=',
                              empty_union_iou: float = 0.0,
                              size_bins: Optional[Dict[
                                  str, Sequence[float]]] = None,
                              by_category: bool = True) -> Dict[str, float]:
    """Compute referring segmentation metrics from per-expression counts.

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
        by_category (bool): Add the per-category breakdown for records that
            carry a category. Defaults to True.

    Returns:
        dict[str, float]: In percent, two decimals: ``mIoU``, ``oIoU``,
        ``Prec@X`` per threshold, ``mIoU_<bin>`` / ``oIoU_<bin>`` for each
        non-empty size bin and ``mIoU@<category>`` / ``oIoU@<category>``.
    """
    if prec_rule not in ('>=', '>'):
        raise ValueError(f"prec_rule must be '>=' or '>', got {prec_rule!r}")
    records = [ReferringRecord(*r) for r in records]
    if size_bins is None:
        size_bins = DEFAULT_SIZE_BINS
    if not records:
        raise ValueError('no expressions were scored: the evaluator received '
                         'no samples')
    ious = _expression_ious(records, empty_union_iou)
    metrics: Dict[str, float] = OrderedDict()
    metrics['mIoU'] = _percent(ious.mean())
    metrics['oIoU'] = _percent(_overall_iou(records, empty_union_iou))
    for thr in iou_thrs:
        hits = ious >= thr if prec_rule == '>=' else ious > thr
        metrics[f'Prec@{thr:g}'] = _percent(hits.mean())

    for name, group in _groups(records, size_bins, by_category).items():
        metrics[f'mIoU{name}'] = _percent(
            _expression_ious(group, empty_union_iou).mean())
        metrics[f'oIoU{name}'] = _percent(_overall_iou(group, empty_union_iou))
    return metrics


def _groups(records: List[ReferringRecord],
            size_bins: Optional[Dict[str, Sequence[float]]],
            by_category: bool) -> Dict[str, List[ReferringRecord]]:
    """Group records by key suffix (``_<bin>`` and ``@<category>``)."""
    groups: Dict[str, List[ReferringRecord]] = OrderedDict()
    if size_bins:
        for name in list(size_bins) + ['empty']:
            members = [r for r in records if size_bin_of(r, size_bins) == name]
            if members:
                groups[f'_{name}'] = members
    if by_category:
        categories = sorted(
            {str(r.category)
             for r in records if r.category is not None})
        for cat in categories:
            groups[f'@{cat}'] = [
                r for r in records
                if r.category is not None and str(r.category) == cat
            ]
    return groups


@METRICS.register_module()
class ReferringSegMetric(BaseMetric):
    """Referring segmentation metric: mIoU, oIoU and Prec@X per expression.

    Every expression is one sample; its IoU is computed on the binary masks
    (target = 1) with ground-truth pixels equal to ``ignore_index`` excluded.
    Reported values are in percent with two decimals:

    * ``mIoU``: mean over expressions of each expression's IoU;
    * ``oIoU`` (cIoU, overall IoU): sum of intersections / sum of unions;
    * ``Prec@X``: share of expressions with IoU >= X (or > X, see
      ``prec_rule``);
    * ``mIoU_<bin>`` / ``oIoU_<bin>``: the same over target-size bins, the
      share of the (non-ignored) image covered by the ground truth; the
      default bins are small < 1%, medium 1-10%, large >= 10% (a 512 px tile:
      small < ~51x51 px, e.g. vehicles, storage tanks; large >= ~162x162 px,
      e.g. fields, stadiums, airports). Expressions with an empty ground
      truth form the bin ``empty``.
    * ``mIoU@<category>`` / ``oIoU@<category>`` for samples whose metainfo
      ``category`` is not None.

    Counts per bin and category are printed in the table only. This is not
    mmseg's ``IoUMetric`` on two classes, whose mIoU averages background and
    foreground.

    ``resolution='original'`` scores ``pred_sem_seg`` against ``gt_sem_seg``
    as the segmentor returns them at ``ori_shape``. ``resolution='input'``
    scores at ``img_shape`` (the network input size), following the LAVT /
    RMSIN protocol so numbers compare with theirs: the ground truth is resized
    with nearest interpolation, and the prediction is taken from
    ``seg_logits`` resized bilinearly and binarised as
    ``sigmoid(logit) > threshold`` (one channel) or ``argmax == 1``
    (several channels); without ``seg_logits`` ``pred_sem_seg`` is resized
    with nearest interpolation.

    Args:
        iou_thrs (Sequence[float]): Thresholds of ``Prec@X``.
            Defaults to (0.5, 0.6, 0.7, 0.8, 0.9).
        prec_rule (str): ``'>='`` (LAVT, RMSIN) or ``'>'`` (RSRefSeg).
            Defaults to '>='.
        resolution (str): ``'original'`` or ``'input'``.
            Defaults to 'original'.
        threshold (float): Probability threshold of ``resolution='input'``.
            Defaults to 0.5.
        empty_union_iou (float): IoU of an expression whose ground truth and
            prediction are both empty. Defaults to 0.0 (as LAVT).
        size_bins (dict, optional): Name -> (low, high) share bins; an empty
            dict disables the size breakdown. Defaults to None
            (:data:`DEFAULT_SIZE_BINS`).
        by_category (bool): Report per-category scores. Defaults to True.
        ignore_index (int): Ground-truth value excluded from scoring.
            Defaults to 255.
        collect_device (str): Device used to collect results across ranks,
            'cpu' or 'gpu'. Defaults to 'cpu'.
        output_dir (str, optional): Directory where each prediction is saved
            as a 0/255 PNG named ``<ref_id>_<sent_id>.png``. Defaults to None.
        format_only (bool): Only save predictions (needs ``output_dir``),
            compute nothing and return an empty dict. Defaults to False.
        prefix (str, optional): Prefix of the metric names. Defaults to None.
    """

    def __init__(self,
                 iou_thrs: Sequence[float] = DEFAULT_IOU_THRS,
                 prec_rule: str = '>=',
                 resolution: str = 'original',
                 threshold: float = 0.5,
                 empty_union_iou: float = 0.0,
                 size_bins: Optional[Dict[str, Sequence[float]]] = None,
                 by_category: bool = True,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if prec_rule not in ('>=', '>'):
            raise ValueError(
                f"prec_rule must be '>=' or '>', got {prec_rule!r}")
        if resolution not in ('original', 'input'):
            raise ValueError("resolution must be 'original' or 'input', got "
                             f'{resolution!r}')
        if format_only and output_dir is None:
            raise ValueError('format_only=True needs output_dir')
        self.iou_thrs = tuple(float(t) for t in iou_thrs)
        self.prec_rule = prec_rule
        self.resolution = resolution
        self.threshold = threshold
        self.empty_union_iou = float(empty_union_iou)
        self.size_bins = OrderedDict((k, tuple(v)) for k, v in (
            DEFAULT_SIZE_BINS if size_bins is None else size_bins).items())
        self.by_category = by_category
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        if self.output_dir and is_main_process():
            mkdir_or_exist(self.output_dir)
        self.format_only = format_only

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store the counts of each expression of the batch.

        Args:
            data_batch (Any): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, as dicts.
        """
        for index, sample in enumerate(data_samples):
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            img_path = sample.get('img_path', '<unknown image>')
            if 'pred_sem_seg' not in sample:
                raise KeyError(f'sample {img_path} has no pred_sem_seg')
            pred = sample['pred_sem_seg']['data'].squeeze(0)
            if self.output_dir is not None:
                self._save_mask(pred, sample, len(self.results) + index)
            if self.format_only:
                continue
            if 'gt_sem_seg' not in sample:
                raise KeyError(
                    f'sample {img_path} has no gt_sem_seg; load the mask in '
                    'the test pipeline or set format_only=True')
            gt = sample['gt_sem_seg']['data'].squeeze(0).to(pred.device)
            if self.resolution == 'input':
                pred, gt = self._to_input_size(sample, pred, gt)
            if pred.shape != gt.shape:
                raise ValueError(
                    f'sample {img_path}: prediction shape '
                    f'{tuple(pred.shape)} differs from ground-truth shape '
                    f'{tuple(gt.shape)}; load the mask after Resize in the '
                    "test pipeline or use resolution='input'")
            self.results.append(self._count(pred, gt, sample))

    def _count(self, pred: torch.Tensor, gt: torch.Tensor,
               sample: dict) -> ReferringRecord:
        valid = gt != self.ignore_index
        pred_fg = (pred == 1) & valid
        gt_fg = (gt == 1) & valid
        return ReferringRecord(
            intersection=int((pred_fg & gt_fg).sum()),
            union=int((pred_fg | gt_fg).sum()),
            gt_area=int(gt_fg.sum()),
            image_area=int(valid.sum()),
            category=sample.get('category'),
            ref_id=sample.get('ref_id'),
            sent_id=sample.get('sent_id'))

    def _to_input_size(self, sample: dict, pred: torch.Tensor,
                       gt: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if 'img_shape' not in sample:
            raise KeyError(f"sample {sample.get('img_path')} has no "
                           "img_shape, needed by resolution='input'")
        size = tuple(int(s) for s in sample['img_shape'][:2])
        gt = F.interpolate(
            gt[None, None].float(), size=size, mode='nearest')[0, 0].long()
        if 'seg_logits' in sample:
            logits = F.interpolate(
                sample['seg_logits']['data'][None].float(),
                size=size,
                mode='bilinear',
                align_corners=False)[0]
            if logits.shape[0] == 1:
                pred = (logits[0].sigmoid() > self.threshold).long()
            else:
                pred = (logits.argmax(dim=0) == 1).long()
        else:
            pred = F.interpolate(
                pred[None, None].float(), size=size, mode='nearest')[0,
                                                                     0].long()
        return pred, gt.to(pred.device)

    def _save_mask(self, pred: torch.Tensor, sample: dict, index: int) -> None:
        ref_id, sent_id = sample.get('ref_id'), sample.get('sent_id')
        if ref_id is None and sent_id is None:
            stem = osp.splitext(osp.basename(sample.get('img_path', '')))[0]
            name = f'{stem}_{index}'
        else:
            name = f'{ref_id}_{sent_id}'
        mask = (pred.cpu().numpy() == 1).astype(np.uint8) * 255
        path = osp.join(self.output_dir, f'{name}.png')
        if not cv2.imwrite(path, mask):
            raise OSError(f'could not write prediction mask {path}')

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the metrics from the stored per-expression counts.

        Args:
            results (list): :class:`ReferringRecord` of every expression.

        Returns:
            dict[str, float]: See :func:`compute_referring_metrics`; empty
            when ``format_only``.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            logger.info(f'predictions are saved to {self.output_dir}')
            return OrderedDict()
        metrics = compute_referring_metrics(
            results,
            iou_thrs=self.iou_thrs,
            prec_rule=self.prec_rule,
            empty_union_iou=self.empty_union_iou,
            size_bins=self.size_bins,
            by_category=self.by_category)
        self._log_tables(metrics, results, logger)
        return metrics

    def _log_tables(self, metrics: Dict[str, float], results: list,
                    logger: MMLogger) -> None:
        summary = PrettyTable()
        keys = ['mIoU', 'oIoU'] + [f'Prec@{t:g}' for t in self.iou_thrs]
        summary.field_names = ['expressions'] + keys
        summary.add_row([len(results)] + [metrics[k] for k in keys])
        print_log(
            f'referring segmentation results (prec {self.prec_rule}, '
            f'{self.resolution} resolution):', logger)
        print_log('\n' + summary.get_string(), logger=logger)

        records = [ReferringRecord(*r) for r in results]
        groups = _groups(records, self.size_bins, self.by_category)
        if not groups:
            return
        breakdown = PrettyTable()
        breakdown.field_names = ['group', 'count', 'mIoU', 'oIoU']
        for name, members in groups.items():
            label = name[1:] if name.startswith('_') else name
            breakdown.add_row([
                label,
                len(members), metrics[f'mIoU{name}'], metrics[f'oIoU{name}']
            ])
        print_log('by target size (share of the image) and category:', logger)
        print_log('\n' + breakdown.get_string(), logger=logger)
