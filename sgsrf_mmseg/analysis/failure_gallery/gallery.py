"""The failure gallery: the worst expressions of a split, with their stages.

:func:`write_failure_gallery` ranks the expressions of a split by the IoU
the metric computed, read from the per-expression results ``tools/test.py
--out`` wrote (``expressions.csv``); only without such a file does it run
the test itself first (through the runner, as ``tools/test.py`` does, the
file kept beside the page). Then it runs the shown expressions once more
through :func:`~sgsrf_mmseg.apis.trace_stages` for their stage panels and
writes one self-contained HTML page (:mod:`.page`).
"""
import copy
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from ...apis import ReferringSegInferencer
from ...apis.stage_parses import give_split_parses
from ...apis.stage_trace import trace_stages_and_outputs
from ...engine.launch import build_runner, prepare_test_config
from ...evaluation.metrics.grounding_scores import grounding_measures
from ...utils.atomic_file import write_text_atomic
from ...visualization import StagePanels
from .expression_results import (ExpressionResult, failures_by_group,
                                 rank_failures, read_expression_results)
from .page import gallery_html


@dataclass
class GalleryEntry:
    """One shown expression.

    Attributes:
        rank (int): 1 for the worst.
        result (ExpressionResult): Its row of the results.
        panels (StagePanels): Its stages in this pass.
        ground_truth (np.ndarray): ``(H0, W0)`` uint8, 1 target, 255
            ignored.
        pointing (bool, optional): Hit or miss of the cue's peak: the
            results' value, else this pass's, measured as the metric does
            (None: no cue).
        pointing_source (str): 'test run' or 'this pass'.
        pass_iou (float): IoU of this pass's mask (0..1).
    """
    rank: int
    result: ExpressionResult
    panels: StagePanels
    ground_truth: np.ndarray
    pointing: Optional[bool]
    pointing_source: str
    pass_iou: float


def use_split(cfg: Config, split: str) -> None:
    """Make ``test_dataloader`` read ``split`` with the test pipeline."""
    if split == 'test':
        return
    source = cfg.get(f'{split}_dataloader') or cfg.test_dataloader
    dataset = copy.deepcopy(source['dataset'])
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    test = cfg.test_dataloader.dataset
    while 'dataset' in test:
        test = test['dataset']
    dataset.update(split=split, test_mode=True, pipeline=test['pipeline'])
    cfg.test_dataloader.dataset = dataset


def run_split_test(cfg: Config, config_path: str, checkpoint: str,
                   results_dir: str) -> str:
    """Test the checkpoint on ``cfg``'s test split, keeping every row.

    Returns:
        str: The ``expressions.csv`` written in ``results_dir``.
    """
    cfg = copy.deepcopy(cfg)
    cfg.test_evaluator.output_dir = results_dir
    cfg.test_evaluator.keep_results = True
    prepare_test_config(cfg, config_path, checkpoint,
                        osp.join(results_dir, 'work_dir'))
    build_runner(cfg).test()
    return osp.join(results_dir, 'expressions.csv')


def _iou(mask: np.ndarray, gt: np.ndarray) -> float:
    valid = gt != 255
    inter = ((mask == 1) & (gt == 1) & valid).sum()
    union = (((mask == 1) | (gt == 1)) & valid).sum()
    return float(inter / union) if union else 0.0


def pass_pointing(sample, gt: np.ndarray) -> Optional[bool]:
    """The metric's pointing of this pass's cue (None without a cue).

    Measured as :class:`ReferringSegMetric` measures it
    (:func:`~sgsrf_mmseg.evaluation.metrics.grounding_scores.
    grounding_measures`: the cue's peak cell holds a target pixel).
    """
    if 'pred_cue_logits' not in sample:
        return None
    gt = torch.from_numpy(gt)
    hit, _ = grounding_measures(sample.pred_cue_logits.data, sample.metainfo,
                                sample.pred_sem_seg.data[0].cpu() > 0, gt == 1,
                                gt != 255)
    return hit


def trace_entries(inferencer: ReferringSegInferencer,
                  dataset,
                  shown: Sequence[ExpressionResult],
                  batch_size: int = 8) -> List[GalleryEntry]:
    """The stage panels of the shown expressions, one batch at a time."""
    index = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        index[(str(info.get('ref_id')), str(info.get('sent_id')))] = i
    missing = [r for r in shown if r.key not in index]
    if missing:
        raise ValueError(
            f'{len(missing)} expression(s) of the results are not in the '
            f'split (first: ref {missing[0].ref_id}, sentence '
            f'{missing[0].sent_id}, line {missing[0].line}): the results '
            'come from another split or dataset')
    entries = []
    for start in range(0, len(shown), batch_size):
        chunk = shown[start:start + batch_size]
        batch = pseudo_collate([dataset[index[r.key]] for r in chunk])
        panels_of, samples = trace_stages_and_outputs(inferencer.model, batch)
        truths = [
            s.gt_sem_seg.data[0].cpu().numpy().astype(np.uint8)
            for s in samples
        ]
        for result, panels, gt, sample in zip(chunk, panels_of, truths,
                                              samples):
            pointing, source = result.pointing, 'test run'
            if pointing is None:
                pointing, source = pass_pointing(sample, gt), 'this pass'
            entries.append(
                GalleryEntry(
                    len(entries) + 1, result, panels, gt, pointing, source,
                    _iou(panels.mask, gt)))
    return entries


def write_failure_gallery(config: str,
                          checkpoint: str,
                          out_file: str,
                          split: str = 'test',
                          worst: int = 24,
                          group: Optional[str] = None,
                          results: Optional[str] = None,
                          parser: Optional[str] = None,
                          device: Optional[str] = None,
                          cfg_options: Optional[dict] = None,
                          overwrite: bool = False) -> List[GalleryEntry]:
    """Write the failure gallery of a split as one HTML file.

    Args:
        config (str): Config file.
        checkpoint (str): Checkpoint file.
        out_file (str): The HTML page.
        split (str): 'test', 'val' or 'train'. Defaults to 'test'.
        worst (int): Expressions shown. Defaults to 24.
        group (str, optional): Show only this group's. Defaults to None.
        results (str, optional): ``expressions.csv`` of a test run of this
            checkpoint on this split (or its folder); None runs the test
            first, into ``<out_file without .html>_results/``.
            Defaults to None.
        parser (str, optional): spaCy pipeline for the parses; None takes
            the dataset's ``text_parser``. Defaults to None.
        device (str, optional): Torch device. Defaults to None.
        cfg_options (dict, optional): Config overrides. Defaults to None.
        overwrite (bool): Replace an existing page. Defaults to False.

    Returns:
        list[GalleryEntry]: The shown expressions, worst first.
    """
    if worst < 1:
        raise ValueError(f'worst must be at least 1, got {worst}')
    if osp.lexists(out_file) and not overwrite:
        raise FileExistsError(f'{out_file} exists; it is kept: choose '
                              'another file or overwrite it (--overwrite)')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    use_split(cfg, split)
    if results is None:
        folder = osp.splitext(out_file)[0] + '_results'
        os.makedirs(folder, exist_ok=True)
        results = run_split_test(cfg, config, checkpoint, folder)
    rows = read_expression_results(results)
    shown = rank_failures(rows, worst, group)
    give_split_parses(cfg, 'test', parser)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    inferencer = ReferringSegInferencer(cfg, checkpoint, device=device)
    entries = trace_entries(inferencer, dataset, shown)
    page = gallery_html(
        entries, failures_by_group(rows, shown),
        dict(
            config=config,
            checkpoint=checkpoint,
            split=split,
            results=results,
            group=group or 'all',
            expressions=len(rows)))
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    write_text_atomic(out_file, page, overwrite)
    return entries
