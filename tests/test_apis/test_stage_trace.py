"""The stage panels are the tensors of the model's own forward pass."""
import numpy as np
import pytest
import torch

from sgsrf_mmseg.apis import (ReferringSegInferencer, StageRecorder,
                              explain_expression, trace_stages)
from sgsrf_mmseg.models.losses.expression_roles import token_roles
from sgsrf_mmseg.models.utils.stage_outputs import Grounding
from sgsrf_mmseg.utils.dependency_parse import DependencyParse
from sgsrf_mmseg.visualization import draw_stage_figure, stage_html
from sgsrf_mmseg.webapp import bundled_examples

TINY_CONFIG = 'configs/sgsrf/sgsrf_tiny_synthetic.py'
# "the white storage tank at the bottom": tank <- white, storage; at -> bottom
TANK = DependencyParse(
    words=('the', 'white', 'storage', 'tank', 'at', 'the', 'bottom'),
    spaces=(True, ) * 6 + (False, ),
    heads=(3, 3, 3, 3, 3, 6, 4),
    deps=('det', 'amod', 'compound', 'ROOT', 'prep', 'det', 'pobj'))
# 26 BPE tokens: the tiny text tower (24 positions) reads 22 of them.
LONG = ('the red car at the top left of the image next to the white storage '
        'tank near the big blue pond in the bottom right corner')


@pytest.fixture
def image():
    return bundled_examples()[1].image


def explain_and_capture(inferencer, image, text, parser=None):
    """The panels, and CCR's output of the same pass (a second hook)."""
    captured = []
    handle = inferencer.model.refiner.register_forward_hook(
        lambda module, args, output: captured.append(output))
    try:
        panels = explain_expression(inferencer, image, text, parser)
    finally:
        handle.remove()
    [grounding] = captured
    assert isinstance(grounding, Grounding)
    return panels, grounding


def test_attention_panels_are_what_the_structure_loss_reads(inferencer, image):
    panels, grounding = explain_and_capture(inferencer, image, TANK.text, TANK)
    assert len(grounding.patch_word_attn) == panels.num_blocks == 2
    h, w = grounding.cue_logits.shape[-2:]
    # The content words, each one token here, at the positions the
    # structure term reads for this parse (head and position words).
    roles = token_roles(TANK, len(panels.tokens))
    by_word = {a.word: a.token_positions for a in panels.attention}
    assert by_word == {
        'white': (2, ),
        'storage': (3, ),
        'tank': (4, ),
        'bottom': (7, )
    }
    assert roles.head == (2, 3, 4) and roles.describe == (2, 3, 4, 7)
    assert panels.word_roles == ('', 'head', 'head', 'head', '', '',
                                 'position')
    for word in panels.attention:
        [position] = word.token_positions
        for block, attn in enumerate(grounding.patch_word_attn):
            column = attn[0, :, position].reshape(h, w).numpy()
            np.testing.assert_array_equal(word.maps[block], column)


def test_landmarks_are_drawn_where_the_loss_reads_them(inferencer, image):
    parse = DependencyParse(
        words=('the', 'car', 'left', 'of', 'the', 'white', 'building'),
        spaces=(True, ) * 6 + (False, ),
        heads=(1, 1, 1, 2, 6, 6, 3),
        deps=('det', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj'))
    panels = explain_expression(inferencer, image, parse.text, parse)
    roles = token_roles(parse, len(panels.tokens))
    assert roles.landmark_tokens == (6, 7)
    drawn = {
        a.word: (a.token_positions, panels.word_role(a.word_index))
        for a in panels.attention
    }
    assert drawn == {
        'car': ((2, ), 'head'),
        'white': ((6, ), 'landmark'),
        'building': ((7, ), 'landmark')
    }
    assert 'building&quot; (landmark)' in stage_html(panels)


def test_cue_panel_is_the_sigmoid_of_the_cue_logits(inferencer, image):
    panels, grounding = explain_and_capture(inferencer, image, TANK.text, TANK)
    np.testing.assert_array_equal(panels.cue,
                                  grounding.cue_logits[0, 0].sigmoid().numpy())


def test_mask_and_score_are_the_inferencers(inferencer, image):
    panels = explain_expression(inferencer, image, 'the white tank')
    result = inferencer(image, 'the white tank', return_probability=True)
    # CCR computes its attention explicitly when asked for the maps.
    np.testing.assert_allclose(
        panels.probability, result['probability'], atol=1e-5)
    assert (panels.mask != result['mask']).mean() < 1e-3
    assert panels.score == pytest.approx(result['score'], abs=1e-4)
    assert panels.image.shape == (128, 128, 3)


def test_a_word_of_several_tokens_sums_their_columns(inferencer, image):
    text = 'the unicornish tank'
    panels, grounding = explain_and_capture(inferencer, image, text)
    [word] = [a for a in panels.attention if a.word == 'unicornish']
    assert len(word.token_positions) > 1
    h, w = grounding.cue_logits.shape[-2:]
    for block, attn in enumerate(grounding.patch_word_attn):
        total = attn[0, :, list(word.token_positions)].sum(-1)
        np.testing.assert_array_equal(word.maps[block],
                                      total.reshape(h, w).numpy())


def test_one_word_draws_and_says_so(inferencer, image):
    parse = DependencyParse(('tank', ), (False, ), (0, ), ('ROOT', ))
    panels = explain_expression(inferencer, image, 'tank', parse)
    assert [a.word for a in panels.attention] == ['tank']
    assert any(n.startswith('one word') for n in panels.notes)
    figure = draw_stage_figure(panels)
    assert figure.ndim == 3 and figure.dtype == np.uint8
    assert 'one word' in stage_html(panels)


def test_a_cut_expression_draws_and_says_so(inferencer, image):
    panels = explain_expression(inferencer, image, LONG)
    assert len(panels.tokens) == 22
    assert panels.cut_tokens == ('the', 'bottom', 'right', 'corner')
    [note] = [n for n in panels.notes if n.startswith('cut')]
    assert 'read 22 of 26 tokens' in note
    assert 'words the, bottom, right, corner' in note
    # The cut words have no attention: the model never read them.
    assert [a.word_index for a in panels.attention] == list(range(22))
    draw_stage_figure(panels)
    assert stage_html(panels).count('not read (cut)') == 4


def test_no_parse_is_said(inferencer, image):
    panels = explain_expression(inferencer, image, 'the white tank')
    assert panels.parse is None and panels.parse_source == 'no parser given'
    assert any('no dependency parse' in n for n in panels.notes)
    assert [a.word for a in panels.attention] == ['the', 'white', 'tank']


def test_a_parse_of_another_text_is_refused(inferencer, image):
    with pytest.raises(ValueError, match='spell'):
        explain_expression(inferencer, image, 'the red car', TANK)


def test_prompts_and_adapters_of_the_config(image):
    torch.manual_seed(0)
    inferencer = ReferringSegInferencer(
        TINY_CONFIG,
        device='cpu',
        cfg_options={
            'model.prompt_generator.use_points': True,
            'model.prompt_generator.use_box': True
        })
    panels = explain_expression(inferencer, image, 'the white tank')
    assert panels.prompt_kinds == ('queries', 'points', 'box', 'dense')
    assert panels.points.shape == (1, 2) and panels.box.shape == (4, )
    # The adapters start as the identity: they change nothing yet.
    [adapter] = panels.modulation
    assert adapter.block == 1 and adapter.magnitude.shape == (16, 16)
    assert adapter.magnitude.max() == 0
    film = inferencer.model.decode_head.grounding_adapters[0].film
    torch.nn.init.normal_(film.weight, std=0.1)
    [adapter] = explain_expression(inferencer, image,
                                   'the white tank').modulation
    assert adapter.magnitude.min() > 0 and adapter.relative > 0


def test_hooks_are_removed_and_other_models_refused(inferencer):
    model = inferencer.model
    with StageRecorder(model):
        assert model.refiner._forward_pre_hooks
    assert not model.refiner._forward_pre_hooks
    assert not model.refiner._forward_hooks
    with pytest.raises(TypeError, match='has no image_encoder'):
        trace_stages(torch.nn.Linear(2, 2), dict(data_samples=[]))


@pytest.mark.parametrize(
    'options, note', [({
        'model.refiner.num_blocks': 0
    }, 'CCR has no blocks'), ({
        'model.prompt_generator': None
    }, 'no GPG'),
                      ({
                          'model.decode_head.use_grounding_adapters': False
                      }, 'no grounding adapters')],
    ids=['no CCR blocks', 'no GPG', 'no adapters'])
def test_a_stage_the_config_leaves_out_is_said(image, options, note):
    torch.manual_seed(0)
    inferencer = ReferringSegInferencer(
        TINY_CONFIG, device='cpu', cfg_options=options)
    panels = explain_expression(inferencer, image, 'the white tank')
    assert [n for n in panels.notes if n.startswith(note)]
    assert draw_stage_figure(panels).ndim == 3
    assert note in stage_html(panels)
