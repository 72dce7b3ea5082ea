"""tools/infer.py: its steps in-process (InferRun) and end to end."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from infer_options import infer_options

from sgsrf_mmseg.apis.infer_run import InferRun
from sgsrf_mmseg.engine import CheckpointError
from sgsrf_mmseg.utils.command_line import error_line
from sgsrf_mmseg.utils.folder_lock import FolderLock

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')
TOOL = osp.join(REPO, 'tools', 'infer.py')


def run_tool(args, cwd):
    """Run tools/infer.py from any folder, without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    return subprocess.run([sys.executable, TOOL, CONFIG, *args],
                          cwd=str(cwd),
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)


@pytest.fixture
def start(inferencer, monkeypatch):
    """Check the inputs of a run that uses the shared inferencer."""
    monkeypatch.setattr(InferRun, 'build_model',
                        lambda run: setattr(run, 'inferencer', inferencer))
    runs = []

    def start_run(**kwargs):
        run = InferRun(infer_options(**kwargs))
        runs.append(run)
        run.check_inputs()
        run.build_model()
        return run

    yield start_run
    for run in runs:
        run.close()


def input_error(**kwargs):
    """The message tools/infer.py prints for a bad input, before the model."""
    run = InferRun(infer_options(**kwargs))
    try:
        with pytest.raises((ValueError, OSError, RuntimeError)) as info:
            run.check_inputs()
            run.build_model()
    finally:
        run.close()
    message = error_line(info.value)
    assert message.startswith('error: ') and 'unexpected' not in message
    return message[len('error: '):]


def write_images(folder, shapes):
    rng = np.random.RandomState(0)
    images = {}
    for i, shape in enumerate(shapes):
        rgb = rng.randint(0, 256, shape + (3, ), np.uint8)
        path = osp.join(str(folder), f'img{i}.png')
        assert cv2.imwrite(path, rgb[..., ::-1])
        images[path] = rgb
    return images


def read_pngs(out_dir, name):
    mask = cv2.imread(
        osp.join(out_dir, f'{name}_mask.png'), cv2.IMREAD_UNCHANGED)
    overlay = cv2.imread(osp.join(out_dir, f'{name}_overlay.png'))
    assert mask is not None and overlay is not None
    return mask, overlay[..., ::-1]


@pytest.mark.slow
def test_single_image_cli(inferencer, tmp_path):
    """From any folder, with a checkpoint; a rerun keeps the outputs."""
    (path, rgb), = write_images(tmp_path, [(70, 90)]).items()
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=inferencer.model.state_dict()), checkpoint)
    text = 'the red car'
    expected = inferencer(rgb, text)['mask']
    assert expected.any()  # the seeded weights segment something here
    out_dir = str(tmp_path / 'out')
    args = [
        '--checkpoint', checkpoint, '--image', path, '--text', text,
        '--out-dir', out_dir, '--device', 'cpu'
    ]
    proc = run_tool(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    mask, overlay = read_pngs(out_dir, 'img0')
    assert mask.shape == (70, 90) and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 255}
    np.testing.assert_array_equal(mask // 255, expected)
    banner = overlay.shape[0] - 70
    assert banner > 0 and overlay.shape[1:] == (90, 3)
    body = overlay[banner:]
    target = mask > 0
    assert (body[target] != rgb[target]).any(axis=1).all()
    np.testing.assert_array_equal(body[~target], rgb[~target])
    assert sorted(os.listdir(out_dir)) == ['img0_mask.png', 'img0_overlay.png']

    cv2.imwrite(osp.join(out_dir, 'img0_mask.png'), np.zeros((2, 2)))
    proc = run_tool(args, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: 2 output file(s) already exist: {out_dir}/img0_mask.png, '
        f'{out_dir}/img0_overlay.png; they are kept: choose another output '
        'folder, or ask to overwrite them (--overwrite)')
    assert cv2.imread(osp.join(out_dir, 'img0_mask.png')).shape[:2] == (2, 2)
    assert run_tool(args + ['--overwrite'], tmp_path).returncode == 0
    np.testing.assert_array_equal(read_pngs(out_dir, 'img0')[0], mask)


@pytest.mark.parametrize('args,message', [
    (['--tile-size', '0'], '--tile-size must be at least 1, got 0'),
    (['--tile-size', '64', '--overlap', '64'
      ], '--overlap must be >= 0 and smaller than --tile-size, got 64'),
    (['--bands', '0', '1'
      ], '--bands takes 1 or 3 band indices, 0-based (>= 0), got 0 1'),
    (['--bands', '-1'
      ], '--bands takes 1 or 3 band indices, 0-based (>= 0), got -1'),
])
@pytest.mark.slow
def test_bad_options_are_refused_at_once(tmp_path, args, message):
    proc = run_tool([
        '--geotiff', 'scene.tif', '--text', 'tanks', '--out-dir', 'out', *args
    ], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith(f'error: {message}')
    assert not (tmp_path / 'out').exists()


def test_bad_inputs_are_reported_before_the_model(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(InferRun, 'build_model', lambda run: built.append(1))
    (image, _), = write_images(tmp_path, [(20, 20)]).items()
    out = str(tmp_path / 'out')
    assert input_error(
        image=image, text=' \n', out_dir=out
    ) == ('--text is empty after removing white space and control characters '
          "(got ' \\n'): there is nothing to ground")
    assert input_error(image=str(tmp_path / 'nope.png'), text='a car',
                       out_dir=out) == \
        f'image file not found: {tmp_path}/nope.png'
    assert input_error(image=str(tmp_path), text='a car', out_dir=out) == \
        f'image path {tmp_path} is a folder, not an image file'
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    assert input_error(
        image=image, text='a car', out_dir=str(blocker / 'out')) == (
            f'cannot create the output folder {blocker}/out: Not a directory')
    assert input_error(image=image, text='a car', out_dir=str(blocker)) == \
        f'output folder {blocker} exists and is not a folder'
    pairs = tmp_path / 'pairs.csv'
    pairs.write_text('image,text\n')
    assert input_error(batch=str(pairs), out_dir=out) == \
        f'list of pairs {pairs} has no rows'
    assert not osp.exists(out)  # a refused run creates no folder
    with FolderLock(out, role='output folder'):  # another run writes there
        message = input_error(image=image, text='a car', out_dir=out)
    assert message.startswith(f'the output folder {out} is in use by another '
                              f'run (pid {os.getpid()} on ')
    assert not built


def test_geotiff_inputs_are_checked_before_the_model(tmp_path, monkeypatch):
    rasterio = pytest.importorskip('rasterio')
    monkeypatch.setattr(InferRun, 'build_model', lambda run: None)
    garbage = tmp_path / 'scene.tif'
    garbage.write_bytes(b'II*\x00 not a tiff')
    message = input_error(
        geotiff=str(garbage), text='tanks', out_dir=str(tmp_path / 'out'))
    assert message.startswith(f'cannot read raster {garbage}: ')
    scene = tmp_path / 'rgb.tif'
    with rasterio.open(
            str(scene),
            'w',
            driver='GTiff',
            height=8,
            width=8,
            count=3,
            dtype='uint8') as dst:
        dst.write(np.zeros((3, 8, 8), np.uint8))
    assert input_error(
        geotiff=str(scene),
        text='tanks',
        bands=[0, 1, 3],
        out_dir=str(tmp_path / 'out')) == (
            f'bands=[0, 1, 3] invalid for {scene} with 3 bands: give 1 or 3 '
            '0-based indices')


def test_unreadable_checkpoints_name_the_file(tmp_path):
    (image, _), = write_images(tmp_path, [(20, 20)]).items()
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    run = InferRun(
        infer_options(
            image=image,
            text='a car',
            checkpoint=str(empty),
            out_dir=str(tmp_path / 'out')))
    run.check_inputs()
    with pytest.raises(CheckpointError) as info:
        run.build_model()
    run.close()
    assert str(info.value) == (f'cannot read checkpoint {empty}: the file is '
                               'empty or cut short')


def test_batch_csv(start, inferencer, tmp_path):
    images = write_images(tmp_path, [(40, 60), (64, 64), (9, 13)])
    paths = list(images)
    rows = [
        'image,text,name',
        f'{osp.basename(paths[0])},the red car,',
        f'{paths[1]},"roofs, roads",second',
        f'{osp.basename(paths[2])},a pond,',
    ]
    csv_path = tmp_path / 'pairs.csv'
    csv_path.write_text('\n'.join(rows) + '\n', encoding='utf-8')
    out_dir = str(tmp_path / 'out')
    run = start(batch=str(csv_path), out_dir=out_dir, batch_size=2)
    code, message = run.run()
    assert (code, message) == (0, f'3 rows: 3 written to {out_dir}, 0 '
                               'skipped')
    for name, path, text in (('img0', paths[0], 'the red car'),
                             ('second', paths[1],
                              'roofs, roads'), ('img2', paths[2], 'a pond')):
        mask, overlay = read_pngs(out_dir, name)
        shape = images[path].shape[:2]
        assert mask.shape == shape and overlay.shape[1] == shape[1]
        np.testing.assert_array_equal(mask // 255,
                                      inferencer(path, text)['mask'])


def test_batch_jsonl_stop_and_skip(start, tmp_path):
    images = write_images(tmp_path, [(32, 32), (20, 30)])
    first, second = images
    rows = [
        json.dumps(dict(image=first, text='a tank')),
        json.dumps(dict(image=first, text='the road')),  # same stem
        '',
        json.dumps(dict(image=second, text='   ')),
        '{not json',
        json.dumps(dict(image='missing.png', text='a car')),
        json.dumps(dict(image=7, text='a car')),
        json.dumps(dict(image=second, text='a roof\x00')),
    ]
    jsonl = tmp_path / 'pairs.jsonl'
    jsonl.write_text('\n'.join(rows) + '\n', encoding='utf-8')

    out_dir = tmp_path / 'stop'
    lines = input_error(batch=str(jsonl), out_dir=str(out_dir)).splitlines()
    assert lines[0] == (f'3 row(s) of {jsonl} cannot be segmented (fix them, '
                        'or use --on-error skip to skip them):')
    assert lines[1] == (
        'row 3 (pairs.jsonl line 4): text is empty after removing white '
        "space and control characters (got '   '): there is nothing to ground")
    assert [line.split(':')[0] for line in lines[2:]
            ] == ['row 4 (pairs.jsonl line 5)', 'row 6 (pairs.jsonl line 7)']
    assert not out_dir.exists()  # nothing segmented, nothing created

    out_dir = str(tmp_path / 'skip')
    run = start(
        batch=str(jsonl), out_dir=out_dir, on_error='skip', batch_size=3)
    code, message = run.run()
    run.close()
    assert code == 0
    assert sorted(os.listdir(out_dir)) == [
        'img0_2_mask.png', 'img0_2_overlay.png', 'img0_mask.png',
        'img0_overlay.png', 'img1_mask.png', 'img1_overlay.png'
    ]
    lines = message.splitlines()
    assert lines[0] == f'7 rows: 3 written to {out_dir}, 4 skipped'
    assert [line.split(':')[0] for line in lines[1:]] == [
        'row 3 (pairs.jsonl line 4)', 'row 4 (pairs.jsonl line 5)',
        'row 5 (pairs.jsonl line 6)', 'row 6 (pairs.jsonl line 7)'
    ]
    assert 'missing.png' in lines[3] and "'image' must be a string" in lines[4]


@pytest.mark.slow
def test_batch_with_every_row_skipped_fails(tmp_path):
    pairs = tmp_path / 'pairs.csv'
    pairs.write_text('image,text\nnope.png,a car\n"b.png,ponds\nc.png,x\n')
    proc = run_tool(
        ['--batch',
         str(pairs), '--out-dir', 'out', '--on-error', 'skip'], tmp_path)
    assert proc.returncode == 1
    out = str(tmp_path / 'out')
    assert proc.stderr.strip().splitlines()[-3:] == [
        f'error: no pair written: 2 rows: 0 written to {out}, 2 skipped',
        f'row 1 (pairs.csv line 2): image file not found: {tmp_path}/nope.png',
        'row 2 (pairs.csv lines 3-4): the row spans several lines (an '
        'unclosed quote?); a row must be one line'
    ]
    assert os.listdir(out) == []


def test_geotiff(start, tmp_path):
    rasterio = pytest.importorskip('rasterio')
    from rasterio.transform import from_origin
    height, width = 150, 200
    transform = from_origin(500000.0, 4500000.0, 2.0, 2.0)
    rgb = np.random.RandomState(0).randint(0, 256, (3, height, width),
                                           np.uint8)
    scene = str(tmp_path / 'scene.tif')
    with rasterio.open(
            scene,
            'w',
            driver='GTiff',
            height=height,
            width=width,
            count=3,
            dtype='uint8',
            crs='EPSG:32633',
            transform=transform) as dst:
        dst.write(rgb)
    out_dir = str(tmp_path / 'out')
    run = start(
        geotiff=scene,
        text='the tanks',
        out_dir=out_dir,
        tile_size=128,
        overlap=32,
        batch_size=4)
    code, message = run.run()
    run.close()
    assert code == 0 and message.startswith('4 tiles, ')
    with rasterio.open(osp.join(out_dir, 'scene_mask.tif')) as src:
        assert (src.height, src.width, src.count) == (height, width, 1)
        assert src.crs.to_epsg() == 32633 and src.transform == transform
        mask = src.read(1)
    assert set(np.unique(mask)) <= {0, 255}
    with open(osp.join(out_dir, 'scene.geojson'), encoding='utf-8') as f:
        collection = json.load(f)
    assert collection['type'] == 'FeatureCollection'
    assert collection['properties']['text'] == 'the tanks'
    assert sorted(os.listdir(out_dir)) == ['scene.geojson', 'scene_mask.tif']


@pytest.mark.slow
def test_tile_size_is_bounded_before_the_model(tmp_path, monkeypatch):
    """Issue 23 item 16 (tools/infer.py --geotiff): tile sizes had no bound
    (a huge tile grew the process by gigabytes, tile size 3 cut a 384 px
    scene into 16,384 tiles); now they are checked against the scene and
    the model input (128 px) before the model is built."""
    rasterio = pytest.importorskip('rasterio')
    monkeypatch.setattr(InferRun, 'build_model', lambda run: None)
    scene = tmp_path / 'scene.tif'
    with rasterio.open(
            str(scene),
            'w',
            driver='GTiff',
            height=384,
            width=300,
            count=3,
            dtype='uint8') as dst:
        dst.write(np.zeros((3, 384, 300), np.uint8))
    for tile in (3, 100000):
        assert input_error(
            geotiff=str(scene),
            text='tanks',
            tile_size=tile,
            out_dir=str(tmp_path / 'out')) == (
                f'tile size {tile} is out of range for a 300 x 384 scene and '
                'a 128 x 128 model input: choose 32 to 384 (tiles are '
                'resized to the model input)')
    assert input_error(
        geotiff=str(scene),
        text='tanks',
        tile_size=128,
        overlap=200,
        out_dir=str(tmp_path / 'out')) == (
            'tile overlap 200 is out of range: choose 0 to 127 (smaller than '
            'the tile size)')
    proc = run_tool([
        '--geotiff',
        str(scene), '--text', 'tanks', '--out-dir',
        str(tmp_path / 'cli'), '--tile-size', '3'
    ], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        'error: tile size 3 is out of range for a 300 x 384 scene and a 128 '
        'x 128 model input: choose 32 to 384 (tiles are resized to the '
        'model input)')
