"""Drawing the stage panels: the figure, the tiles, the HTML fragment."""
import base64
import re

import cv2
import numpy as np
import pytest

from sgsrf_mmseg.utils.dependency_parse import DependencyParse
from sgsrf_mmseg.visualization import (AdapterModulation, StagePanels,
                                       WordAttention, draw_parse,
                                       draw_stage_figure, stage_html,
                                       stage_tiles)
from sgsrf_mmseg.visualization.stage_tiles import TILE, heat_overlay

PARSE = DependencyParse(('the', 'red', 'car'), (True, True, False), (2, 2, 2),
                        ('det', 'amod', 'ROOT'))


def make_panels(parse=PARSE, words=None, num_blocks=2, **kwargs):
    """Panels of a made-up pass: 8 x 8 patch grid, 64 px image."""
    rng = np.random.default_rng(0)
    words = parse.words if parse is not None else words
    attention = tuple(
        WordAttention(
            i, words[i], (i + 1, ),
            tuple(
                rng.random((8, 8)).astype(np.float32)
                for _ in range(num_blocks))) for i in range(len(words))
        if parse is None or i > 0)
    fields = dict(
        text=' '.join(words),
        image=rng.integers(0, 255, (64, 64, 3), dtype=np.uint8),
        words=tuple(words),
        parse=parse,
        parse_source='test parse' if parse else 'none',
        tokens=tuple(words),
        token_words=tuple(range(len(words))),
        cut_tokens=(),
        attention=attention,
        num_blocks=num_blocks,
        cue=rng.random((8, 8)).astype(np.float32),
        probability=np.zeros((100, 120), np.float32),
        mask=np.zeros((100, 120), np.uint8),
        score=0.0,
        points=np.array([[0.25, 0.75]], np.float32),
        point_labels=np.ones(1, np.float32),
        box=np.array([0.1, 0.2, 0.5, 0.9], np.float32),
        dense_magnitude=rng.random((8, 8)).astype(np.float32),
        prompt_kinds=('queries', 'points', 'box', 'dense'),
        modulation=(AdapterModulation(1, np.ones((4, 4), np.float32), 0.1), ),
        notes=('a note', ))
    fields.update(kwargs)
    return StagePanels(**fields)


def test_tiles_one_per_block_and_word_then_the_stages():
    tiles = stage_tiles(make_panels())
    kinds = [t.kind for t in tiles]
    assert kinds == ['attention'] * 4 + [
        'cue', 'prompts', 'dense', 'modulation', 'mask'
    ]
    assert [(t.block, t.word) for t in tiles[:4]] == [(1, 'red'), (1, 'car'),
                                                      (2, 'red'), (2, 'car')]
    assert all(t.image.shape == (TILE, TILE, 3) for t in tiles)


def test_heat_overlay_shows_each_cell_and_its_scale():
    values = np.zeros((4, 4), np.float32)
    values[0, 0] = 1.0
    image = np.full((64, 64, 3), 128, np.uint8)
    drawn = heat_overlay(image, values, vmax=1.0)
    cell = TILE // 4
    hot, cold = drawn[:cell, :cell], drawn[cell:, cell:]
    assert (hot == hot[0, 0]).all() and (cold == cold[0, 0]).all()
    assert not np.array_equal(hot[0, 0], cold[0, 0])
    # The same map on a larger scale is drawn colder.
    assert not np.array_equal(
        heat_overlay(image, values, vmax=4.0)[0, 0], hot[0, 0])


def test_the_figure_has_every_tile():
    panels = make_panels()
    figure = draw_stage_figure(panels)
    assert figure.dtype == np.uint8 and figure.ndim == 3
    width = figure.shape[1]
    assert width >= 5 * TILE and figure.shape[0] > 3 * TILE


@pytest.mark.parametrize(
    'kwargs', [
        dict(parse=None, words=('tank', ), notes=('no parse', )),
        dict(parse=None, words=(), notes=('empty', )),
        dict(num_blocks=0, notes=()),
        dict(
            points=None,
            box=None,
            dense_magnitude=None,
            prompt_kinds=(),
            modulation=())
    ],
    ids=['one word, no parse', 'empty', 'no CCR block', 'no prompts'])
def test_figures_of_what_a_config_or_text_leaves_out(kwargs):
    panels = make_panels(**kwargs)
    assert draw_stage_figure(panels).ndim == 3
    html = stage_html(panels)
    assert html.count('data-kind="attention"') == \
        panels.num_blocks * len(panels.attention)


def test_parse_drawing_marks_words_not_read():
    panels = make_panels(
        tokens=('the', 'red'), token_words=(0, 1), cut_tokens=('car', ))
    drawn = draw_parse(panels)
    red = (drawn[..., 0] > 150) & (drawn[..., 1] < 80) & (drawn[..., 2] < 80)
    assert red[:, 2 * drawn.shape[1] // 3:].any()  # the last word, in red
    assert not red[:, :drawn.shape[1] // 3].any()


def test_html_is_self_contained_and_escaped():
    panels = make_panels(text='the <b>red</b> car', notes=('<script>', ))
    html = stage_html(panels, element_id='stage-panels')
    assert '<script>' not in html and '&lt;script&gt;' in html
    assert 'id="stage-panels"' in html
    sources = re.findall(r'src="([^"]+)"', html)
    assert len(sources) == 1 + len(stage_tiles(panels))  # parse + tiles
    for source in sources:
        assert source.startswith('data:image/png;base64,')
        data = np.frombuffer(
            base64.b64decode(source.split(',', 1)[1]), np.uint8)
        assert cv2.imdecode(data, cv2.IMREAD_COLOR) is not None
    table = html.split('sgsrf-parse-table')[1]
    assert [c for c in re.findall(r'<td>([^<]*)</td>', table)
            ][:4] == ['the', 'the', 'car', 'det']
