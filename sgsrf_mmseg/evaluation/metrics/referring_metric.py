"""``ReferringSegMetric``: the mmengine metric over the referring scores."""
import csv
import io
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from mmseg.registry import METRICS
from prettytable import PrettyTable

from ...utils.atomic_file import write_bytes_atomic, write_text_atomic
from .grounding_scores import grounding_measures
from .referring_scores import (DEFAULT_IOU_THRS, DEFAULT_SIZE_BINS,
                               GROUP_MEASURES, ReferringRecord,
                               ReferringSummary, check_size_bins,
                               expression_rows, summarize_records)
from .scoring_protocol import resolve_protocol, scoring_masks

#: File of the per-expression records written with ``keep_results``.
EXPRESSIONS_FILE = 'expressions.csv'


@METRICS.register_module()
class ReferringSegMetric(BaseMetric):
    """Referring segmentation metric: mIoU, oIoU and Prec@X per expression.

    Every expression is one sample; its IoU is computed on the binary masks
    (target = 1) with ground-truth pixels equal to ``ignore_index`` excluded.
    Reported values are in percent with two decimals:

    * ``mIoU``: mean over expressions of each expression's IoU;
    * ``oIoU`` (cIoU, overall IoU): sum of intersections / sum of unions;
    * ``Prec@X``: share of expressions with IoU >= X (or > X);
    * ``mIoU_<bin>`` / ``oIoU_<bin>``: the same over target-size bins, the
      share of the (non-ignored) image covered by the ground truth; the
      default bins are small < 1%, medium 1-10%, large >= 10% (a 512 px tile:
      small < ~51x51 px, e.g. vehicles, storage tanks; large >= ~162x162 px,
      e.g. fields, stadiums, airports). Expressions with an empty ground
      truth form the bin ``empty``.
    * ``mIoU@<name>`` / ``oIoU@<name>`` for the metainfo ``category`` of a
      sample and each of its ``tags`` (test groups such as ``relation``;
      a sample counts in every group it names);
    * ``pointing`` and ``drift`` (overall and per group) when the model
      predicts a grounding cue (``pred_cue_logits``): the share of
      expressions whose cue peak falls on the target, and the mean share of
      a predicted mask outside the cue's region (see
      :mod:`~sgsrf_mmseg.evaluation.metrics.grounding_scores`), measured at
      the original size whatever the protocol.

    The resolution and rules follow a scoring protocol (see
    :mod:`~sgsrf_mmseg.evaluation.metrics.scoring_protocol`): ``'original'``
    (default), ``'lavt-480'`` (LAVT / RMSIN) or ``'rsrefseg'``. The protocol
    is printed with the tables; counts per bin and category are printed in
    the table and kept in :attr:`summary`. This is not mmseg's ``IoUMetric``
    on two classes, whose mIoU averages background and foreground.

    Args:
        protocol (str): Scoring protocol preset. Defaults to 'original'.
        iou_thrs (Sequence[float]): Thresholds of ``Prec@X``.
            Defaults to (0.5, 0.6, 0.7, 0.8, 0.9).
        prec_rule (str, optional): Overrides the protocol's ``'>='`` /
            ``'>'``. Defaults to None.
        resolution (str | int | tuple, optional): Overrides the protocol's
            resolution: ``'original'``, ``'input'`` or a size.
            Defaults to None.
        threshold (float, optional): Overrides the protocol's probability
            threshold of a resampled prediction. Defaults to None.
        empty_union_iou (float, optional): Overrides the protocol's IoU of
            an empty prediction on an empty ground truth. Defaults to None.
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
        keep_results (bool): Also write the per-expression records (ref id,
            sentence id, category, image, IoU, intersection, union, predicted,
            ground-truth and image areas, size bin, groups, pointing, drift)
            to
            ``output_dir/expressions.csv`` (needs ``output_dir``; nothing is
            scored with ``format_only``). MMSegmentation's ``tools/test.py
            --out`` sets it with ``output_dir``. Defaults to False.
        overwrite (bool): Replace files of the same names in
            ``output_dir``; when False such a file is an
            :class:`~sgsrf_mmseg.utils.atomic_file.OutputExistsError` and is
            kept. Every file is written atomically (a killed run leaves the
            previous version whole). Defaults to False.
        prefix (str, optional): Prefix of the metric names. Defaults to None.
    """

    def __init__(self,
                 protocol: str = 'original',
                 iou_thrs: Sequence[float] = DEFAULT_IOU_THRS,
                 prec_rule: Optional[str] = None,
                 resolution: Union[str, int, Sequence[int], None] = None,
                 threshold: Optional[float] = None,
                 empty_union_iou: Optional[float] = None,
                 size_bins: Optional[Dict[str, Sequence[float]]] = None,
                 by_category: bool = True,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 keep_results: bool = False,
                 overwrite: bool = False,
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.protocol = resolve_protocol(
            protocol,
            prec_rule=prec_rule,
            resolution=resolution,
            threshold=threshold,
            empty_union_iou=empty_union_iou)
        for flag, value in (('format_only', format_only), ('keep_results',
                                                           keep_results)):
            if value and output_dir is None:
                raise ValueError(f'{flag}=True needs output_dir')
        self.iou_thrs = tuple(float(t) for t in iou_thrs)
        self.size_bins = OrderedDict((k, tuple(v)) for k, v in (
            DEFAULT_SIZE_BINS if size_bins is None else size_bins).items())
        check_size_bins(self.size_bins)
        self.by_category = by_category
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        if self.output_dir and is_main_process():
            mkdir_or_exist(self.output_dir)
        self.format_only = format_only
        self.keep_results = keep_results
        self.overwrite = overwrite
        self.summary: Optional[ReferringSummary] = None
        self._saved_masks = 0

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store the counts of each expression of the batch.

        Args:
            data_batch (Any): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, as dicts.
        """
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            img_path = sample.get('img_path', '<unknown image>')
            if 'pred_sem_seg' not in sample:
                raise KeyError(f'sample {img_path} has no pred_sem_seg')
            pred = sample['pred_sem_seg']['data'].squeeze(0)
            if self.output_dir is not None:
                self._save_mask(pred, sample)
            if self.format_only:
                continue
            if 'gt_sem_seg' not in sample:
                raise KeyError(
                    f'sample {img_path} has no gt_sem_seg; load the mask in '
                    'the test pipeline or set format_only=True')
            gt = sample['gt_sem_seg']['data'].squeeze(0).to(pred.device)
            grounding = self._grounding(pred, gt, sample)
            pred, gt = scoring_masks(self.protocol, sample, pred, gt)
            if pred.shape != gt.shape:
                raise ValueError(
                    f'sample {img_path}: prediction shape '
                    f'{tuple(pred.shape)} differs from ground-truth shape '
                    f'{tuple(gt.shape)}; load the mask after Resize in the '
                    'test pipeline or score at a fixed resolution')
            self.results.append(
                self._count(pred, gt, sample)._replace(**grounding))

    def _grounding(self, pred: torch.Tensor, gt: torch.Tensor,
                   sample: dict) -> dict:
        """Pointing and drift at the original size, when there is a cue."""
        if 'pred_cue_logits' not in sample:
            return {}
        if pred.shape != gt.shape:
            raise ValueError(
                f"sample {sample.get('img_path')}: prediction shape "
                f'{tuple(pred.shape)} differs from ground-truth shape '
                f'{tuple(gt.shape)}; load the mask after Resize in the test '
                'pipeline')
        valid = gt != self.ignore_index
        hit, drift = grounding_measures(sample['pred_cue_logits']['data'],
                                        sample, pred == 1, gt == 1, valid)
        return dict(pointing=hit, drift=drift)

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
            sent_id=sample.get('sent_id'),
            img_path=sample.get('img_path'),
            tags=tuple(sample.get('tags') or ()))

    def _save_mask(self, pred: torch.Tensor, sample: dict) -> None:
        ref_id, sent_id = sample.get('ref_id'), sample.get('sent_id')
        if ref_id is None and sent_id is None:
            stem = osp.splitext(osp.basename(sample.get('img_path', '')))[0]
            name = f'{stem}_{self._saved_masks}'
        else:
            name = f'{ref_id}_{sent_id}'
        self._saved_masks += 1
        mask = (pred.cpu().numpy() == 1).astype(np.uint8) * 255
        path = osp.join(self.output_dir, f'{name}.png')
        ok, png = cv2.imencode('.png', mask)
        if not ok:
            raise OSError(f'could not encode prediction mask {path}')
        write_bytes_atomic(path, png.tobytes(), self.overwrite)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the metrics from the stored per-expression counts.

        Args:
            results (list): :class:`ReferringRecord` of every expression.

        Returns:
            dict[str, float]: See :meth:`ReferringSummary.to_metrics`; empty
            when ``format_only``.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            logger.info(f'predictions are saved to {self.output_dir}')
            return OrderedDict()
        self.summary = summarize_records(
            results,
            iou_thrs=self.iou_thrs,
            prec_rule=self.protocol.prec_rule,
            empty_union_iou=self.protocol.empty_union_iou,
            size_bins=self.size_bins,
            by_category=self.by_category)
        if self.keep_results:
            self._write_records(results, logger)
        self._log_tables(self.summary, logger)
        return self.summary.to_metrics()

    def _write_records(self, results: list, logger: MMLogger) -> None:
        rows = expression_rows(results, self.protocol.empty_union_iou,
                               self.size_bins)
        path = osp.join(self.output_dir, EXPRESSIONS_FILE)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(path, text.getvalue(), self.overwrite)
        print_log(f'per-expression records are written to {path}', logger)

    def _log_tables(self, summary: ReferringSummary, logger: MMLogger) -> None:
        table = PrettyTable()
        table.field_names = ['expressions'] + list(summary.overall)
        table.add_row([summary.expressions] + list(summary.overall.values()))
        print_log(
            f'referring segmentation results, '
            f'{self.protocol.describe()}:', logger)
        print_log('\n' + table.get_string(), logger=logger)
        if not summary.groups:
            return
        measures = [
            key for key in GROUP_MEASURES if any(
                getattr(score, key) is not None
                for score in summary.groups.values())
        ]
        breakdown = PrettyTable()
        breakdown.field_names = ['group', 'count'] + measures
        for name, score in summary.groups.items():
            breakdown.add_row([name, score.count] + [
                '-' if getattr(score, key) is None else getattr(score, key)
                for key in measures
            ])
        print_log(
            'by target size (share of the image), category and test group:',
            logger)
        print_log('\n' + breakdown.get_string(), logger=logger)
