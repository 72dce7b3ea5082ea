"""The stage panels as an HTML fragment with embedded pictures.

Used by the web demo's "How it decided" section and by the failure
gallery: the notes, the parse (drawn, and as a table of words, the CLIP
tokens read for each, head and label) and one ``<figure>`` per tile of
:func:`~.stage_tiles.stage_tiles`, each with its title and caption. Every
picture is a PNG in a ``data:`` URI, so the fragment needs no other file.
"""
import base64
import html
from typing import Optional

import cv2
import numpy as np

from .parse_drawing import draw_parse
from .stage_panels import StagePanels
from .stage_tiles import stage_tiles

#: Style of the fragment (class names ``sgsrf-...``).
STAGE_CSS = """
.sgsrf-stages {font-family: sans-serif; font-size: 13px;}
.sgsrf-stage-note {background: #fff4d6; border: 1px solid #e0a800;
                   padding: 4px 8px; margin: 4px 0; border-radius: 4px;}
.sgsrf-parse-table {border-collapse: collapse; margin: 6px 0;}
.sgsrf-parse-table td, .sgsrf-parse-table th {border: 1px solid #ccc;
                                              padding: 2px 6px;}
.sgsrf-word-cut {color: #c81e1e;}
.sgsrf-panels {display: flex; flex-wrap: wrap; gap: 6px;}
.sgsrf-panel {margin: 0; width: 172px;}
.sgsrf-panel img {width: 160px; image-rendering: pixelated;}
.sgsrf-panel figcaption {font-size: 11px; line-height: 1.25;}
"""


def png_data_uri(image_rgb: np.ndarray, jpeg_quality: int = 0) -> str:
    """An RGB picture as a ``data:image/png;base64,...`` URI.

    Args:
        image_rgb (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        jpeg_quality (int): 1..100 encodes a JPEG of that quality instead
            (a tenth of the size of a large figure). Defaults to 0 (PNG).

    Returns:
        str: The URI.
    """
    bgr = np.ascontiguousarray(image_rgb[..., ::-1])
    if jpeg_quality:
        ok, data = cv2.imencode('.jpg', bgr,
                                [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        kind = 'jpeg'
    else:
        ok, data = cv2.imencode('.png', bgr)
        kind = 'png'
    if not ok:
        raise ValueError(f'could not encode the picture as {kind}')
    return f'data:image/{kind};base64,' + base64.b64encode(
        data.tobytes()).decode('ascii')


def _img(image_rgb: np.ndarray, alt: str, css_class: str = '') -> str:
    cls = f' class="{css_class}"' if css_class else ''
    return (f'<img{cls} alt="{html.escape(alt)}" '
            f'src="{png_data_uri(image_rgb)}">')


def parse_table_html(panels: StagePanels) -> str:
    """Words, the tokens the tower read for each, head and label."""
    parse = panels.parse
    rows = []
    for index, word in enumerate(panels.words):
        tokens = panels.word_tokens(index)
        read = ' '.join(tokens) if tokens else 'not read (cut)'
        cls = '' if tokens else ' class="sgsrf-word-cut"'
        head = label = '-'
        if parse is not None:
            head_index = parse.heads[index]
            head = 'root' if head_index == index else \
                parse.words[head_index]
            label = parse.deps[index]
        cells = (word, read, head, label, panels.word_role(index) or '-')
        rows.append(f'<tr{cls}>' + ''.join(f'<td>{html.escape(c)}</td>'
                                           for c in cells) + '</tr>')
    return ('<table class="sgsrf-parse-table"><thead><tr><th>word</th>'
            '<th>CLIP tokens read</th><th>head</th><th>label</th>'
            '<th>role (SCR)</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def stage_html(panels: StagePanels, element_id: Optional[str] = None) -> str:
    """The whole fragment for one expression.

    Args:
        panels (StagePanels): What one forward pass computed.
        element_id (str, optional): ``id`` of the outer ``<div>``.
            Defaults to None.

    Returns:
        str: HTML (style not included: see :data:`STAGE_CSS`).
    """
    ident = f' id="{html.escape(element_id)}"' if element_id else ''
    notes = ''.join(f'<p class="sgsrf-stage-note">{html.escape(n)}</p>'
                    for n in panels.notes)
    figures = []
    for tile in stage_tiles(panels):
        data = f' data-kind="{tile.kind}"'
        if tile.block is not None:
            data += f' data-block="{tile.block}"'
        if tile.word is not None:
            data += f' data-word="{html.escape(tile.word)}"'
        figures.append(
            f'<figure class="sgsrf-panel"{data}>'
            f'{_img(tile.image, tile.title)}<figcaption><b>'
            f'{html.escape(tile.title)}</b><br>{html.escape(tile.caption)}'
            '</figcaption></figure>')
    return (f'<div class="sgsrf-stages"{ident}>{notes}'
            f'<div class="sgsrf-parse"><p><b>Parse</b> '
            f'({html.escape(panels.parse_source)}) over the CLIP tokens '
            f'the text tower read</p>{_img(draw_parse(panels), "parse")}'
            f'{parse_table_html(panels)}</div>'
            f'<div class="sgsrf-panels">{"".join(figures)}</div></div>')
