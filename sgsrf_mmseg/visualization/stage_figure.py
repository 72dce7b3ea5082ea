"""One picture of the stage panels of an expression (PNG figures).

From top to bottom: the expression and the mask's score, the notes (no
parse, a cut expression...), the parse over the CLIP tokens, one row of
attention tiles per CCR block, then the cue, GPG's prompts, the adapters'
modulation and the final mask.
"""
from typing import List, Sequence

import cv2
import numpy as np

from .overlay import add_text_banner, ascii_safe
from .parse_drawing import draw_parse
from .stage_panels import StagePanels
from .stage_tiles import PanelTile, stage_tiles

FONT = cv2.FONT_HERSHEY_SIMPLEX
CELL_PAD = 8
TITLE_H, CAPTION_H = 18, 16
ROW_LABEL_W = 96
MIN_PER_ROW = 6
WHITE = (255, 255, 255)
INK, NOTE, HEADING = (30, 30, 30), (120, 60, 0), (20, 40, 160)
NOTE_BACKGROUND = (255, 244, 214)


def fit_text(canvas: np.ndarray, text: str, x: int, y: int, width: int,
             scale: float, colour: Sequence[int]) -> None:
    """Write one line at (x, y), smaller or cut so that it fits ``width``."""
    text = ascii_safe(text)
    while scale > 0.3 and cv2.getTextSize(text, FONT, scale, 1)[0][0] > width:
        scale -= 0.02
    while len(text) > 3 and cv2.getTextSize(text, FONT, scale,
                                            1)[0][0] > width:
        text = text[:-3] + '..'
    cv2.putText(canvas, text, (x, y), FONT, scale, tuple(colour), 1,
                cv2.LINE_AA)


def labelled_tile(tile: PanelTile) -> np.ndarray:
    """The tile's picture with its title above and its caption below."""
    height, width = tile.image.shape[:2]
    cell_w = width + CELL_PAD
    cell = np.full((TITLE_H + height + CAPTION_H + CELL_PAD, cell_w, 3), 255,
                   np.uint8)
    fit_text(cell, tile.title, 2, TITLE_H - 5, cell_w - 4, 0.4, INK)
    cell[TITLE_H:TITLE_H + height, :width] = tile.image
    fit_text(cell, tile.caption, 2, TITLE_H + height + CAPTION_H - 4,
             cell_w - 4, 0.36, INK)
    return cell


def _hstack(parts: List[np.ndarray]) -> np.ndarray:
    height = max(p.shape[0] for p in parts)
    return np.concatenate([
        np.pad(
            p, ((0, height - p.shape[0]), (0, 0), (0, 0)), constant_values=255)
        for p in parts
    ],
                          axis=1)


def _vstack(parts: List[np.ndarray]) -> np.ndarray:
    width = max(p.shape[1] for p in parts)
    return np.concatenate([
        np.pad(
            p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=255)
        for p in parts
    ],
                          axis=0)


def _row(label: str, tiles: List[PanelTile], per_row: int) -> List[np.ndarray]:
    """Rows of at most ``per_row`` tiles after a label column."""
    rows = []
    for start in range(0, len(tiles), per_row):
        cells = [labelled_tile(t) for t in tiles[start:start + per_row]]
        head = np.full((cells[0].shape[0], ROW_LABEL_W, 3), 255, np.uint8)
        if start == 0:
            for k, line in enumerate(label.split('\n')):
                fit_text(head, line, 4, TITLE_H + 20 + 18 * k, ROW_LABEL_W - 8,
                         0.45, HEADING)
        rows.append(_hstack([head] + cells))
    return rows


def _text_lines(lines: Sequence[str],
                width: int,
                colour: Sequence[int],
                scale: float = 0.42) -> np.ndarray:
    """A white strip with one line of text per entry (cut to ``width``)."""
    strip = np.full((8 + 18 * len(lines), width, 3), 255, np.uint8)
    for k, line in enumerate(lines):
        fit_text(strip, line, 6, 18 + 18 * k, width - 12, scale, colour)
    return strip


def _note(text: str, width: int, scale: float = 0.42) -> np.ndarray:
    """A note on a light strip, wrapped at spaces to ``width``."""
    lines, line = [], ''
    for word in ascii_safe(text).split(' '):
        candidate = f'{line} {word}' if line else word
        if line and cv2.getTextSize(candidate, FONT, scale,
                                    1)[0][0] > width - 12:
            lines.append(line)
            candidate = word
        line = candidate
    strip = _text_lines(lines + [line], width, NOTE, scale)
    strip[np.all(strip == 255, axis=-1)] = NOTE_BACKGROUND
    return np.pad(strip, ((0, 2), (0, 0), (0, 0)), constant_values=255)


def draw_stage_figure(panels: StagePanels) -> np.ndarray:
    """The stage panels of one expression as one RGB picture.

    Args:
        panels (StagePanels): What one forward pass computed.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    tiles = stage_tiles(panels)
    attention = [t for t in tiles if t.kind == 'attention']
    rest = [t for t in tiles if t.kind != 'attention']
    parse = draw_parse(panels)
    cell_w = tiles[0].image.shape[1] + CELL_PAD
    per_row = max(MIN_PER_ROW, (parse.shape[1] - ROW_LABEL_W) // cell_w)
    rows = []
    for block in range(1, panels.num_blocks + 1):
        rows += _row(f'CCR block {block}\npatch<-word',
                     [t for t in attention if t.block == block], per_row)
    if panels.num_blocks and not attention:
        rows.append(
            _text_lines(['no content word was read: no attention to draw'],
                        600, NOTE))
    rows += _row('cue, prompts\nSAM, mask', rest, per_row)
    parse_title = _text_lines(
        [f'parse ({panels.parse_source}) over the CLIP '
         'tokens read'], max(parse.shape[1], 600), HEADING)
    body = _vstack([parse_title, parse] + rows)
    notes = [_note(f'note: {note}', body.shape[1]) for note in panels.notes]
    body = _vstack(notes + [body])
    body = np.pad(
        body, ((0, CELL_PAD), (CELL_PAD, CELL_PAD), (0, 0)),
        constant_values=255)
    return add_text_banner(body, f'"{panels.text}"  score {panels.score:.3f}')
