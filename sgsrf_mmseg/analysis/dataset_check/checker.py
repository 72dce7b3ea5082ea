"""Check a referring segmentation dataset the way its loader reads it."""
import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from sgsrf_mmseg.datasets import (LoadRasterImage, LoadReferringMask,
                                  RefSegRSDataset, RISBenchDataset,
                                  RRSISDDataset)
from sgsrf_mmseg.datasets.mask_utils import is_strictly_binary
from sgsrf_mmseg.datasets.sample_files import find_missing_sample_files
from ..logger_level import current_logger_at
from .annotations import ExpressionCheck, read_references
from .report import DefectReport

DATASETS = dict(
    refsegrs=RefSegRSDataset, rrsisd=RRSISDDataset, risbench=RISBenchDataset)


@dataclass
class Preview:
    """One usable expression to draw: its image, target and text."""
    img_path: str
    mask: np.ndarray
    text: str
    name: str


@dataclass
class SplitCheck:
    """What the loader would serve of one split.

    Attributes:
        split (str): The split.
        usable (int): Expressions whose annotations, image and target load.
        previews (list[Preview]): The first usable expressions.
    """
    split: str
    usable: int = 0
    previews: List[Preview] = field(default_factory=list)


def _named(path: str, err: Exception) -> str:
    message = str(err)
    return message if path in message else f'{path}: {message}'


class DatasetChecker:
    """Scan the splits of a dataset with the loader's own readers.

    Annotations are read by the dataset class (its phrase-file or refs
    reader), files are checked to exist as at dataset construction, images
    are read by :class:`LoadRasterImage` and targets by
    :class:`LoadReferringMask` (with its size repair). What the loader
    refuses is a fatal defect naming the file; what it reads is usable.

    Args:
        dataset (str): ``'refsegrs'``, ``'rrsisd'`` or ``'risbench'``.
        data_root (str): Dataset root in the released layout.
        report (DefectReport): Where defects go.
        context_length (int): Text context of the text encoder, in tokens.
            Defaults to 77.
        max_size_mismatch (int): Largest RRSIS-D annotation/image size
            difference repaired (``LoadReferringMask``). Defaults to 16.
        read_pixels (bool): Read images and masks; False only checks that
            they exist. Defaults to True.
        max_empty_fraction (float): A split whose share of empty targets is
            above it is a fatal defect (a wrong mask threshold or broken
            masks). Defaults to 0.5.
        num_preview (int): Usable expressions kept per split for previews.
            Defaults to 0.
        **dataset_kwargs: Other arguments of the dataset class
            (``ann_file``, ``data_prefix``, ``mask_threshold``, ...).
    """

    def __init__(self,
                 dataset: str,
                 data_root: str,
                 report: DefectReport,
                 context_length: int = 77,
                 max_size_mismatch: int = 16,
                 read_pixels: bool = True,
                 max_empty_fraction: float = 0.5,
                 num_preview: int = 0,
                 **dataset_kwargs) -> None:
        if dataset not in DATASETS:
            raise ValueError(f'dataset must be one of {sorted(DATASETS)}, '
                             f'got {dataset!r}')
        self.dataset_cls = DATASETS[dataset]
        self.data_root = data_root
        self.report = report
        self.read_pixels = read_pixels
        self.max_empty_fraction = max_empty_fraction
        self.num_preview = num_preview
        self.dataset_kwargs = dataset_kwargs
        self.expressions = ExpressionCheck(report, context_length)
        self.image_loader = LoadRasterImage()
        self.mask_loader = LoadReferringMask(
            max_size_mismatch=max_size_mismatch, warn_empty=False)
        self._image_shapes: Dict[str, Optional[Tuple[int, int]]] = dict()

    def check_split(self, split: str) -> SplitCheck:
        """Check one split; defects go to the report.

        Args:
            split (str): ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            SplitCheck: The usable expressions and previews of the split.
        """
        result = SplitCheck(split)
        problems = self.dataset_cls.find_missing_files(
            data_root=self.data_root, split=split, **self.dataset_kwargs)
        for problem in problems:
            self.report.add(
                'missing annotation file or folder', problem, fatal=True)
        if problems:
            return result
        dataset = self.dataset_cls(
            data_root=self.data_root,
            split=split,
            lazy_init=True,
            **self.dataset_kwargs)
        # the loaders' warnings: the report lists each case itself
        with current_logger_at(logging.ERROR):
            references = read_references(dataset, self.report,
                                         self.expressions)
            if references is not None:
                self._check_references(references, result)
        return result

    def _check_references(self, references: List[dict],
                          result: SplitCheck) -> None:
        missing = self._report_missing_files(references)
        checked = empty = 0
        for ref in references:
            files = (ref['img_path'], ref.get('seg_map_path'))
            if missing.intersection(files):
                continue
            if self.read_pixels:
                mask = self._load_target(ref)
                if mask is None:
                    continue
                checked += 1
                empty += not mask.any()
                for sent in ref['sentences']:
                    if len(result.previews) < self.num_preview:
                        result.previews.append(
                            Preview(ref['img_path'], mask, sent['text'],
                                    str(ref['ref_id'])))
            result.usable += len(ref['sentences'])
        if checked and empty > self.max_empty_fraction * checked:
            self.report.add(
                'split with mostly empty targets',
                f'{result.split}: {empty} of {checked} target masks are '
                f'empty (more than {self.max_empty_fraction:.0%}); check the '
                'mask threshold and the mask files',
                fatal=True)

    def _report_missing_files(self, references: List[dict]) -> Set[str]:
        missing, _ = find_missing_sample_files(references)
        for field_name, name in (('img_path', 'missing image'),
                                 ('seg_map_path', 'missing mask')):
            for path in missing[field_name]:
                self.report.add(name, path, fatal=True)
        return set(missing['img_path'] + missing['seg_map_path'])

    def _image_shape(self, path: str) -> Optional[Tuple[int, int]]:
        """Read an image as the loader does; its (h, w), None if refused."""
        if path not in self._image_shapes:
            shape = None
            try:
                shape = self.image_loader(dict(img_path=path))['ori_shape']
            except Exception as err:  # every refusal of the loader
                self.report.add(
                    'unreadable image', _named(path, err), fatal=True)
            self._image_shapes[path] = shape
        return self._image_shapes[path]

    def _load_target(self, ref: dict) -> Optional[np.ndarray]:
        """The target mask as the loader makes it; None if refused."""
        shape = self._image_shape(ref['img_path'])
        if shape is None:
            return None
        item = dict(ref, ori_shape=shape)
        if ref.get('mask_annotations') is not None:
            return self._decode_annotations(item)
        return self._read_mask_file(item)

    def _decode_annotations(self, item: dict) -> Optional[np.ndarray]:
        where = f'ref {item["ref_id"]} (annotation {item["ann_id"]})'
        mask_shape = tuple(int(s) for s in item['mask_size'])
        differs = mask_shape != tuple(item['ori_shape'])
        try:
            mask = self.mask_loader(item)['gt_seg_map']
        except Exception as err:  # every refusal of the loader
            name = ('annotation/image size mismatch beyond repair'
                    if differs else 'undecodable annotation')
            self.report.add(name, f'{where}: {err}', fatal=True)
            return None
        if differs:
            self.report.add(
                'annotation/image size mismatch (repaired by the loader)',
                f'{where}: mask {mask_shape} vs {item["img_path"]} '
                f'{tuple(item["ori_shape"])}')
        if not mask.any():
            self.report.add('empty mask', where)
        return mask

    def _read_mask_file(self, item: dict) -> Optional[np.ndarray]:
        path = item['seg_map_path']
        try:
            values = self.mask_loader.read_mask_image(item)
        except Exception as err:  # every refusal of the loader
            self.report.add('unreadable mask', _named(path, err), fatal=True)
            return None
        try:
            mask = self.mask_loader.mask_from_image(values, item)
        except ValueError as err:
            self.report.add('mask/image size mismatch', str(err), fatal=True)
            return None
        threshold = item['mask_threshold']
        if not is_strictly_binary(values):
            self.report.add(
                f'mask not strictly 0/255 (thresholded at > {threshold})',
                f'{path} ({len(np.unique(values))} distinct values)')
        if not mask.any():
            self.report.add(
                'empty mask', f'{path} (non-zero values all <= {threshold})'
                if values.any() else path)
        return mask


def check_dataset(dataset: str, data_root: str, splits: Sequence[str],
                  **options) -> Tuple[DefectReport, List[SplitCheck]]:
    """Check splits of a dataset.

    Args:
        dataset (str): ``'refsegrs'``, ``'rrsisd'`` or ``'risbench'``.
        data_root (str): Dataset root in the released layout.
        splits (Sequence[str]): The splits to check.
        **options: Other arguments of :class:`DatasetChecker`.

    Returns:
        tuple[DefectReport, list[SplitCheck]]: The defects of all splits
        and what each split would serve.
    """
    report = DefectReport()
    checker = DatasetChecker(dataset, data_root, report, **options)
    return report, [checker.check_split(split) for split in splits]
