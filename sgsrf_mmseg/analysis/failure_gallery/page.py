"""The failure gallery's HTML page: one file, every picture embedded.

First the run (config, checkpoint, split, results file), then the failures
by group, then one ``<section class="gallery-entry">`` per expression,
worst first: its IoU, pointing hit or miss, groups, expression and image,
the ground truth and its stage figure.
"""
import html
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

from ...visualization import draw_mask_overlay, draw_stage_figure, png_data_uri
from .expression_results import FAILURE_IOU, GroupFailures

STYLE = """
body {font-family: sans-serif; margin: 16px; color: #222;}
table.groups {border-collapse: collapse; margin-bottom: 16px;}
table.groups td, table.groups th {border: 1px solid #ccc; padding: 3px 8px;
                                  text-align: right;}
table.groups td:first-child, table.groups th:first-child {text-align: left;}
.gallery-entry {border-top: 2px solid #999; padding: 8px 0;}
.gallery-entry h3 {margin: 4px 0;}
.miss {color: #c81e1e;} .hit {color: #18794e;}
.pictures {display: flex; gap: 12px; align-items: flex-start;}
.pictures img.stage-figure {max-width: 100%;}
"""


def _escape(value: object) -> str:
    return html.escape(str(value))


def shown_path(path: object) -> str:
    """A path relative to the working folder when it lies inside it."""
    path = str(path)
    relative = osp.relpath(osp.abspath(path))
    return path if relative.startswith('..') else relative


def _pointing(entry) -> str:
    if entry.pointing is None:
        return '<span>pointing: no cue</span>'
    word, cls = ('hit', 'hit') if entry.pointing else ('miss', 'miss')
    return (f'<span class="{cls}">pointing {word}</span> '
            f'<small>({entry.pointing_source})</small>')


def _ground_truth(entry) -> np.ndarray:
    """The model's input with the ground truth in green."""
    image = entry.panels.image
    gt = cv2.resize(
        entry.ground_truth,
        image.shape[1::-1],
        interpolation=cv2.INTER_NEAREST)
    return draw_mask_overlay(image, gt, (64, 220, 64))


def entry_html(entry) -> str:
    """One ``<section class="gallery-entry">``."""
    result = entry.result
    groups = ', '.join(result.groups) or '-'
    same = abs(entry.pass_iou - result.iou) < 0.005
    pass_note = '' if same else (
        f' <small>(this pass: {100 * entry.pass_iou:.1f})</small>')
    drift = '' if result.drift is None else \
        f' &middot; drift {result.drift:.2f}'
    return (
        f'<section class="gallery-entry" id="entry-{entry.rank}" '
        f'data-rank="{entry.rank}" data-iou="{result.iou:.6f}">'
        f'<h3>#{entry.rank} IoU {100 * result.iou:.1f}{pass_note} &middot; '
        f'{_pointing(entry)}{drift} &middot; {_escape(groups)}</h3>'
        f'<p>&ldquo;{_escape(entry.panels.text)}&rdquo; &mdash; '
        f'{_escape(result.img_path)} (ref {_escape(result.ref_id)}, '
        f'sentence {_escape(result.sent_id)})</p><div class="pictures">'
        f'<figure><img alt="ground truth" '
        f'src="{png_data_uri(_ground_truth(entry))}"><figcaption>ground '
        'truth</figcaption></figure>'
        f'<img class="stage-figure" alt="stages" '
        f'src="{png_data_uri(draw_stage_figure(entry.panels), 90)}">'
        '</div>'
        '</section>')


def groups_html(groups: Sequence[GroupFailures]) -> str:
    """The table of failures by group."""
    rows = ''.join(
        f'<tr><td>{_escape(g.name)}</td><td>{g.expressions}</td>'
        f'<td>{g.failures}</td><td>{100 * g.failures / g.expressions:.1f}%'
        f'</td><td>{100 * g.mean_iou:.1f}</td><td>' +
        (f'{g.pointing_hits}/{g.pointing_known}' if g.pointing_known else '-'
         ) + f'</td><td>{g.shown}</td></tr>' for g in groups)
    return ('<table class="groups"><thead><tr><th>group</th><th>expressions'
            f'</th><th>failures (IoU &lt; {FAILURE_IOU})</th><th>share</th>'
            '<th>mIoU</th><th>pointing hits</th><th>shown here</th></tr>'
            f'</thead><tbody>{rows}</tbody></table>')


def gallery_html(entries: Sequence, groups: Sequence[GroupFailures],
                 info: Dict[str, object]) -> str:
    """The whole page.

    Args:
        entries (Sequence[GalleryEntry]): Shown expressions, worst first.
        groups (Sequence[GroupFailures]): Failures by group.
        info (dict): ``config``, ``checkpoint``, ``split``, ``results``,
            ``group`` and ``expressions`` (of the split).

    Returns:
        str: A complete HTML document.
    """
    title = (f'Failure gallery: {len(entries)} worst of '
             f'{info["expressions"]} expressions ({info["split"]} split, '
             f'group {info["group"]})')
    config, checkpoint, results = (
        _escape(shown_path(info[k]))
        for k in ('config', 'checkpoint', 'results'))
    head = (f'<p>Config <code>{config}</code>, checkpoint '
            f'<code>{checkpoint}</code>; IoU and groups '
            f'from <code>{results}</code> (the metric\'s '
            'per-expression results); sorted by IoU, lowest first. Each '
            'picture is one forward pass of the expression: its parse over '
            "the CLIP tokens, each CCR block's attention of each content "
            'word, the grounding cue, the prompts, the adapters\' '
            'modulation and the mask.</p>')
    body = ''.join(entry_html(entry) for entry in entries)
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<title>{_escape(title)}</title><style>{STYLE}</style></head>'
            f'<body><h1>{_escape(title)}</h1>{head}<h2>Failures by group'
            f'</h2>{groups_html(groups)}<h2>Worst expressions</h2>'
            f'<div id="entries" data-count="{len(entries)}">{body}</div>'
            '</body></html>')
