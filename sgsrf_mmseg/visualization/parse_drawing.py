"""The dependency parse of an expression, drawn over its CLIP tokens.

Words stand in a row in reading order; under each word, the BPE tokens the
text tower read for it; above, one arc per dependency from the head to the
dependent (arrow at the dependent) with its label. Content words (whose
attention the panels show) are dark blue, function words grey, words the
tower never read (cut at the text context) red.
"""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .overlay import ascii_safe
from .stage_panels import StagePanels

FONT = cv2.FONT_HERSHEY_SIMPLEX
WORD_SCALE, SMALL_SCALE = 0.5, 0.36
GAP, MARGIN = 18, 10
CONTENT, FUNCTION, CUT = (20, 40, 160), (120, 120, 120), (200, 30, 30)
ARC, LABEL, TOKEN = (70, 70, 70), (150, 60, 0), (90, 90, 90)


def _width(text: str, scale: float) -> int:
    return cv2.getTextSize(text, FONT, scale, 1)[0][0]


def _centred(canvas: np.ndarray,
             text: str,
             x: int,
             y: int,
             scale: float,
             colour: Sequence[int],
             thickness: int = 1) -> None:
    """Write ``text`` centred on ``x`` with its baseline at ``y``."""
    cv2.putText(canvas, text, (x - _width(text, scale) // 2, y), FONT, scale,
                tuple(colour), thickness, cv2.LINE_AA)


def _columns(panels: StagePanels) -> Tuple[List[str], List[str], List[int]]:
    """Drawn word, token line and centre x of every word."""
    words = [ascii_safe(w) or '?' for w in panels.words]
    tokens = []
    for index in range(len(words)):
        read = panels.word_tokens(index)
        tokens.append(' '.join(ascii_safe(t) or '?'
                               for t in read) if read else '(not read)')
    centres, x = [], MARGIN
    for word, token_line in zip(words, tokens):
        width = max(_width(word, WORD_SCALE), _width(token_line, SMALL_SCALE))
        centres.append(x + width // 2)
        x += width + GAP
    return words, tokens, centres


def _arc_height(distance: int) -> int:
    return 14 + 13 * min(distance, 8)


def _draw_arc(canvas: np.ndarray, x_head: int, x_dep: int, base: int,
              label: str) -> None:
    """A half ellipse from head to dependent, arrow at the dependent."""
    height = _arc_height(abs(x_dep - x_head) // 40 + 1)
    centre = ((x_head + x_dep) // 2, base)
    axes = (max(1, abs(x_dep - x_head) // 2), height)
    cv2.ellipse(canvas, centre, axes, 0, 180, 360, ARC, 1, cv2.LINE_AA)
    tip = np.array(
        [[x_dep, base + 1], [x_dep - 4, base - 7], [x_dep + 4, base - 7]],
        np.int32)
    cv2.fillConvexPoly(canvas, tip, ARC, cv2.LINE_AA)
    text = ascii_safe(label)
    width = _width(text, SMALL_SCALE)
    top = base - height
    cv2.rectangle(canvas, (centre[0] - width // 2 - 2, top - 6),
                  (centre[0] + width // 2 + 2, top + 5), (255, 255, 255),
                  cv2.FILLED)
    _centred(canvas, text, centre[0], top + 4, SMALL_SCALE, LABEL)


def draw_parse(panels: StagePanels) -> np.ndarray:
    """Draw the words, their tokens and (with a parse) the tree.

    Args:
        panels (StagePanels): The expression as the pass read it.

    Returns:
        np.ndarray: ``(h, w, 3)`` uint8 RGB on white.
    """
    words, tokens, centres = _columns(panels)
    parse = panels.parse
    width = max(MARGIN * 2 + 1, (centres[-1] + _width(words[-1], WORD_SCALE) +
                                 MARGIN) if words else 0)
    arc_room = 0
    if parse is not None:
        spans = [
            abs(centres[h] - centres[i]) // 40 + 1
            for i, h in enumerate(parse.heads) if h != i
        ]
        arc_room = _arc_height(max(spans, default=0)) + 18
    base = MARGIN + arc_room + 4
    canvas = np.full((base + 40 + MARGIN, width, 3), 255, np.uint8)
    read = set(panels.token_words)
    content = {a.word_index for a in panels.attention}
    for index, (word, token_line) in enumerate(zip(words, tokens)):
        colour = CUT if index not in read else (
            CONTENT if index in content else FUNCTION)
        _centred(canvas, word, centres[index], base + 16, WORD_SCALE, colour,
                 2 if colour == CONTENT else 1)
        _centred(canvas, token_line, centres[index], base + 34, SMALL_SCALE,
                 CUT if index not in read else TOKEN)
    if parse is not None:
        top = MARGIN + 8
        for index, (head, dep) in enumerate(zip(parse.heads, parse.deps)):
            if head == index:  # a root: a line from above the arcs
                x = centres[index]
                cv2.line(canvas, (x, top + 4), (x, base - 2), ARC, 1,
                         cv2.LINE_AA)
                _centred(canvas, ascii_safe(dep), x, top, SMALL_SCALE, LABEL)
            else:
                _draw_arc(canvas, centres[head], centres[index], base, dep)
    if not words:
        _centred(canvas, '(empty expression)', width // 2, base + 16,
                 SMALL_SCALE, FUNCTION)
    return canvas
