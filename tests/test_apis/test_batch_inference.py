import os

import cv2
import numpy as np
import pytest

from sgsrf_mmseg.apis import read_pair_list, segment_pair_list
from sgsrf_mmseg.apis.batch_inference import check_batch_outputs
from sgsrf_mmseg.utils import image_io
from sgsrf_mmseg.utils.atomic_file import OutputExistsError


class FailingOnText:
    """The shared inferencer, failing like a non-finite model on one text."""

    def __init__(self, inferencer, bad_text, max_pixels=None):
        self.inferencer = inferencer
        self.bad_text = bad_text
        self.max_pixels = max_pixels

    def __call__(self, images, texts, **kwargs):
        if self.bad_text in texts:
            raise RuntimeError('the model gave non-finite probabilities')
        return self.inferencer(images, texts, **kwargs)


@pytest.fixture
def giant_png_fails(monkeypatch):
    """OpenCV fails on giant.png as on an image over 2^30 pixels."""
    imread = cv2.imread

    def fail_on_giant(path, flags):
        if path.endswith('giant.png'):
            raise cv2.error('OpenCV: pixels <= CV_IO_MAX_IMAGE_PIXELS')
        return imread(path, flags)

    monkeypatch.setattr(image_io.cv2, 'imread', fail_on_giant)


def _list(tmp_path, rows):
    rng = np.random.RandomState(0)
    for i, name in enumerate(['img0', 'img1', 'img2', 'giant']):
        cv2.imwrite(
            str(tmp_path / f'{name}.png'),
            rng.randint(0, 256, (24, 32 + i, 3), np.uint8))
    path = tmp_path / 'pairs.csv'
    path.write_text('image,text,name\n' + '\n'.join(rows) + '\n')
    return read_pair_list(str(path))


ROWS = [
    'img0.png,a car,',
    'giant.png,a pond,',  # OpenCV fails on it (cv2.error)
    'img1.png,explode,',  # the model fails on this pair
    'missing.png,a road,',
    'img2.png,a tank,',
]


def test_every_row_failure_is_a_row_error(inferencer, tmp_path,
                                          giant_png_fails):
    entries = _list(tmp_path, ROWS)
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    report = segment_pair_list(
        FailingOnText(inferencer, 'explode'),
        entries,
        str(out_dir),
        batch_size=3,
        on_error='skip')
    assert (report.rows, report.written, report.stopped) == (5, 2, False)
    assert [e.split(':')[0] for e in report.errors] == [
        'row 2 (pairs.csv line 3)', 'row 3 (pairs.csv line 4)',
        'row 4 (pairs.csv line 5)'
    ]
    assert 'could not decode image file' in report.errors[0]
    assert 'non-finite' in report.errors[1]
    assert 'missing.png' in report.errors[2]
    assert sorted(os.listdir(out_dir)) == [
        'img0_mask.png', 'img0_overlay.png', 'img2_mask.png',
        'img2_overlay.png'
    ]
    mask = cv2.imread(str(out_dir / 'img2_mask.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(
        mask // 255,
        inferencer(str(tmp_path / 'img2.png'), 'a tank')['mask'])


def test_stop_writes_the_rows_before_and_nothing_after(inferencer, tmp_path,
                                                       giant_png_fails):
    entries = _list(tmp_path, ROWS)
    report = segment_pair_list(
        FailingOnText(inferencer, 'explode'),
        entries,
        str(tmp_path),
        batch_size=3)
    assert report.stopped and report.written == 1
    assert report.errors[-1].startswith('row 2 (pairs.csv line 3): ')
    written = [n for n in os.listdir(tmp_path) if n.endswith('_mask.png')]
    assert written == ['img0_mask.png']


def test_outputs_never_replace_inputs_or_old_results(inferencer, tmp_path):
    entries = _list(tmp_path, ['img0.png,a car,', 'img1.png,a car,img0'])
    with pytest.raises(ValueError, match='img0_mask.png is the input'):
        (tmp_path / 'img0_mask.png').write_bytes(b'')
        check_batch_outputs(
            _list(tmp_path, ['img0_mask.png,a car,img0']),
            str(tmp_path),
            str(tmp_path / 'pairs.csv'),
            overwrite=True)
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    check_batch_outputs(entries, str(out_dir), str(tmp_path / 'pairs.csv'))
    (out_dir / 'img0_mask.png').write_bytes(b'earlier result')
    with pytest.raises(OutputExistsError) as info:
        check_batch_outputs(entries, str(out_dir), str(tmp_path / 'pairs.csv'))
    assert str(info.value) == (
        f'1 output file(s) already exist: {out_dir}/img0_mask.png; they are '
        'kept: choose another output folder, or ask to overwrite them '
        '(--overwrite)')
    # Found only at write time (another process wrote it): a row error.
    report = segment_pair_list(
        inferencer, entries, str(out_dir), on_error='skip')
    assert report.written == 1 and 'img0_mask.png exists' in report.errors[0]
    assert (out_dir / 'img0_mask.png').read_bytes() == b'earlier result'
    assert not [n for n in os.listdir(out_dir) if n.endswith('.partial')]
