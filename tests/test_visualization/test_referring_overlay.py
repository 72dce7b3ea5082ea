import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample

import sgsrf_mmseg  # noqa: F401
from sgsrf_mmseg.visualization import (LEGEND_COLORS, ReferringSegVisualizer,
                                       ascii_safe, draw_mask_overlay,
                                       draw_referring_overlay,
                                       draw_referring_overlays)

GREY = 100


def grey_image(h=64, w=64):
    return np.full((h, w, 3), GREY, np.uint8)


def square_mask(h=64, w=64):
    mask = np.zeros((h, w), np.uint8)
    mask[20:40, 24:44] = 1
    return mask


def test_mask_filled_and_outlined():
    out = draw_mask_overlay(grey_image(), square_mask(), (255, 0, 0), 0.5)
    assert out.shape == (64, 64, 3)
    np.testing.assert_array_equal(out[30, 34], [178, 50, 50])  # inside
    np.testing.assert_array_equal(out[20, 30], [255, 0, 0])  # outline
    np.testing.assert_array_equal(out[5, 5], [GREY] * 3)  # outside
    ignore = np.full((64, 64), 255, np.uint8)
    np.testing.assert_array_equal(
        draw_mask_overlay(grey_image(), ignore), grey_image())


def test_referring_overlay_banner():
    out = draw_referring_overlay(grey_image(), square_mask(),
                                 'the red car on the left')
    banner_h = out.shape[0] - 64
    assert banner_h > 0 and out.shape[1] == 64
    banner = out[:banner_h]
    assert (banner > 128).any() and (banner == 0).any()  # text on black
    np.testing.assert_array_equal(
        out[banner_h:],
        draw_mask_overlay(grey_image(), square_mask(), (255, 64, 64), 0.5))
    short = draw_referring_overlay(grey_image(), square_mask(), 'car')
    long = draw_referring_overlay(grey_image(), square_mask(),
                                  'the long white building ' * 6)
    assert long.shape[0] > short.shape[0]  # wrapped onto more lines


def test_ascii_safe():
    assert ascii_safe('café\n  à gauche') == 'cafe a gauche'
    assert ascii_safe('停车场 tank') == '??? tank'


def make_sample(**meta):
    sample = SegDataSample(metainfo=dict(text='the pond', **meta))
    sample.gt_sem_seg = PixelData(
        data=torch.from_numpy(square_mask()).long()[None])
    pred = np.zeros((64, 64), np.int64)
    pred[20:40, 24:34] = 1
    sample.pred_sem_seg = PixelData(data=torch.from_numpy(pred)[None])
    return sample


def test_visualizer_writes_file(tmp_path):
    vis = VISUALIZERS.build(
        dict(
            type='ReferringSegVisualizer',
            name='referring_vis_test',
            vis_backends=[dict(type='LocalVisBackend')],
            save_dir=str(tmp_path)))
    assert isinstance(vis, ReferringSegVisualizer)
    vis.add_datasample(
        'val_img.png', grey_image(), make_sample(ref_id=3, sent_id=5), step=2)
    files = list(tmp_path.rglob('*.png'))
    assert [f.name for f in files] == ['val_img.png_3_5_2.png']
    drawn = vis.get_image()
    assert drawn.shape[1] == 3 * 64 and drawn.shape[0] > 64
    body = drawn[-64:]
    np.testing.assert_array_equal(body[:, :64], grey_image())
    assert tuple(body[30, 64 + 34]) != (GREY, ) * 3  # gt panel coloured
    assert tuple(body[30, 128 + 38]) == (GREY, ) * 3  # pred stops at x=34

    out_file = tmp_path / 'single.png'
    vis.add_datasample(
        'x',
        grey_image(),
        make_sample(),
        draw_gt=False,
        out_file=str(out_file))
    assert out_file.exists()
    assert vis.get_image().shape[1] == 2 * 64


def test_visualizer_converts_16bit_image():
    vis = ReferringSegVisualizer(name='referring_vis_16bit')
    image = (np.arange(64 * 64 * 3).reshape(64, 64, 3) * 3).astype(np.uint16)
    drawn = vis.draw_referring(image, make_sample())
    assert drawn.dtype == np.uint8
    with pytest.raises(ValueError, match='mask shape'):
        draw_mask_overlay(grey_image(), np.zeros((3, 3)))


def test_several_masks_each_in_its_colour_with_a_legend():
    left, right = np.zeros((64, 64), np.uint8), np.zeros((64, 64), np.uint8)
    left[20:40, 4:24] = 1
    right[20:40, 40:60] = 1
    out = draw_referring_overlays(grey_image(), [left, right],
                                  ['the left one', 'the right one'])
    banner_h = out.shape[0] - 64
    np.testing.assert_array_equal(
        out[banner_h:],
        draw_mask_overlay(
            draw_mask_overlay(grey_image(), left, LEGEND_COLORS[0]), right,
            LEGEND_COLORS[1]))
    banner = out[:banner_h].reshape(-1, 3)
    for colour in LEGEND_COLORS[:2]:  # one swatch per expression
        assert (banner == colour).all(axis=1).sum() >= 16
    assert not (banner == LEGEND_COLORS[2]).all(axis=1).any()
    with pytest.raises(ValueError, match='one text and one colour per mask'):
        draw_referring_overlays(grey_image(), [left], ['a', 'b'])


def test_long_words_are_wrapped_measuring_little_text(monkeypatch):
    """Issue 23 item 17: the banner's word wrap was cubic in the length of
    a word (a 4,000-character expression took 99 s). Counted, not timed:
    the characters handed to OpenCV's text measure."""
    import cv2

    from sgsrf_mmseg.visualization import overlay
    measured = []
    real = cv2.getTextSize

    def counting(text, *args):
        measured.append(len(text))
        return real(text, *args)

    monkeypatch.setattr(overlay.cv2, 'getTextSize', counting)
    word = ''.join(chr(ord('a') + i % 26) for i in range(4000))
    image = np.zeros((64, 256, 3), np.uint8)
    drawn = overlay.add_text_banner(image, f'the {word} car')
    assert sum(measured) < 40 * len(word), sum(measured)  # was ~10**8
    lines = overlay._wrap(word, 240, 0.35, 1)
    assert ''.join(lines) == word and len(lines) > 10
    assert all(overlay._text_width(line, 0.35, 1) <= 240 for line in lines)
    assert all(
        overlay._text_width(a + b[0], 0.35, 1) > 240
        for a, b in zip(lines, lines[1:]))  # each line is as long as fits
    assert drawn.shape[1:] == (256, 3) and drawn.shape[0] > 64
