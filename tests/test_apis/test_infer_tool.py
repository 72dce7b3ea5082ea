import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')
TOOL = osp.join(REPO, 'tools', 'infer.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('infer_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tool(inferencer, monkeypatch):
    """The tool module, building the shared inferencer instead of its own."""
    module = load_tool()
    monkeypatch.setattr(module, 'ReferringSegInferencer',
                        lambda *args, **kwargs: inferencer)
    messages = []
    monkeypatch.setattr(module, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    module.messages = messages
    return module


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
    mask = cv2.imread(osp.join(out_dir, f'{name}_mask.png'),
                      cv2.IMREAD_UNCHANGED)
    overlay = cv2.imread(osp.join(out_dir, f'{name}_overlay.png'))
    assert mask is not None and overlay is not None
    return mask, overlay[..., ::-1]


def test_single_image_cli(inferencer, tmp_path):
    """From any folder, without PYTHONPATH, with a checkpoint."""
    (path, rgb), = write_images(tmp_path, [(70, 90)]).items()
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=inferencer.model.state_dict()), checkpoint)
    text = 'the red car'
    expected = inferencer(rgb, text)['mask']
    assert expected.any()  # the seeded weights segment something here
    out_dir = str(tmp_path / 'out')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    proc = subprocess.run([
        sys.executable, TOOL, CONFIG, '--checkpoint', checkpoint, '--image',
        path, '--text', text, '--out-dir', out_dir, '--device', 'cpu'
    ],
                          cwd=str(tmp_path),
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
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


def test_single_image_bad_input(tool, tmp_path, capsys):
    (path, _), = write_images(tmp_path, [(20, 20)]).items()
    out_dir = str(tmp_path / 'out')
    assert tool.main([CONFIG, '--image', path, '--text', ' \n',
                      '--out-dir', out_dir]) == 2
    assert '--text' in capsys.readouterr().err
    missing = str(tmp_path / 'nope.png')
    assert tool.main([CONFIG, '--image', missing, '--text', 'a car',
                      '--out-dir', out_dir]) == 2
    assert 'nope.png' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main([CONFIG, '--image', path, '--out-dir', out_dir])


def test_batch_csv(tool, inferencer, tmp_path):
    images = write_images(tmp_path, [(40, 60), (64, 64), (9, 13)])
    paths = list(images)
    rows = [
        'image,text,name',
        f'{osp.basename(paths[0])},the red car,',
        f'{paths[1]},"two\nlines",second',
        f'{osp.basename(paths[2])},a pond,',
    ]
    csv_path = tmp_path / 'pairs.csv'
    csv_path.write_text('\n'.join(rows) + '\n', encoding='utf-8')
    out_dir = str(tmp_path / 'out')
    assert tool.main([CONFIG, '--batch', str(csv_path), '--out-dir', out_dir,
                      '--batch-size', '2']) == 0
    for name, path, text in (('img0', paths[0], 'the red car'),
                             ('second', paths[1], 'two lines'),
                             ('img2', paths[2], 'a pond')):
        mask, overlay = read_pngs(out_dir, name)
        shape = images[path].shape[:2]
        assert mask.shape == shape and overlay.shape[1] == shape[1]
        np.testing.assert_array_equal(mask // 255,
                                      inferencer(path, text)['mask'])
    assert '3 rows: 3 written' in tool.messages[-1]


def test_batch_jsonl_and_errors(tool, tmp_path, capsys):
    images = write_images(tmp_path, [(32, 32), (20, 30)])
    first, second = images
    rows = [
        json.dumps(dict(image=first, text='a tank')),
        json.dumps(dict(image=first, text='the road')),  # same stem
        '',
        json.dumps(dict(image=second, text='   ')),
        '{not json',
        json.dumps(dict(image='missing.png', text='a car')),
        json.dumps(dict(image=second, text='a roof\x00')),
    ]
    jsonl = tmp_path / 'pairs.jsonl'
    jsonl.write_text('\n'.join(rows) + '\n', encoding='utf-8')

    out_dir = str(tmp_path / 'stop')
    assert tool.main([CONFIG, '--batch', str(jsonl), '--out-dir',
                      out_dir]) == 1
    err = capsys.readouterr().err
    assert 'row 3' in err and 'line 4' in err and 'text' in err
    assert sorted(os.listdir(out_dir)) == [
        'img0_2_mask.png', 'img0_2_overlay.png', 'img0_mask.png',
        'img0_overlay.png'
    ]

    out_dir = str(tmp_path / 'skip')
    assert tool.main([CONFIG, '--batch', str(jsonl), '--out-dir', out_dir,
                      '--on-error', 'skip', '--batch-size', '3']) == 0
    assert sorted(os.listdir(out_dir)) == [
        'img0_2_mask.png', 'img0_2_overlay.png', 'img0_mask.png',
        'img0_overlay.png', 'img1_mask.png', 'img1_overlay.png'
    ]
    summary = tool.messages[-1]
    assert '6 rows: 3 written' in summary and '3 skipped' in summary
    assert 'row 3' in summary and 'row 4' in summary
    assert 'row 5' in summary and 'missing.png' in summary


def test_geotiff(tool, tmp_path):
    rasterio = pytest.importorskip('rasterio')
    from rasterio.transform import from_origin
    height, width = 150, 200
    transform = from_origin(500000.0, 4500000.0, 2.0, 2.0)
    rgb = np.random.RandomState(0).randint(0, 256, (3, height, width),
                                           np.uint8)
    scene = str(tmp_path / 'scene.tif')
    with rasterio.open(
            scene, 'w', driver='GTiff', height=height, width=width, count=3,
            dtype='uint8', crs='EPSG:32633', transform=transform) as dst:
        dst.write(rgb)
    out_dir = str(tmp_path / 'out')
    assert tool.main([CONFIG, '--geotiff', scene, '--text', 'the tanks',
                      '--out-dir', out_dir, '--tile-size', '128',
                      '--overlap', '32', '--batch-size', '4']) == 0
    with rasterio.open(osp.join(out_dir, 'scene_mask.tif')) as src:
        assert (src.height, src.width, src.count) == (height, width, 1)
        assert src.crs.to_epsg() == 32633 and src.transform == transform
        mask = src.read(1)
    assert set(np.unique(mask)) <= {0, 255}
    with open(osp.join(out_dir, 'scene.geojson'), encoding='utf-8') as f:
        collection = json.load(f)
    assert collection['type'] == 'FeatureCollection'
    assert collection['properties']['text'] == 'the tanks'
    assert '4 tiles' in tool.messages[-1]
