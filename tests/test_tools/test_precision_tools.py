"""``--precision`` of tools/infer.py, tools/test.py and tools/demo_app.py."""
import glob
import json
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from tool_runner import REPO, run_tool

TINY = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')
NO_BF16 = ('error: precision bf16 cannot run on cpu: this CPU lacks the '
           'AVX-512 BF16 instructions (avx512_bf16) that run bfloat16 at '
           'speed; use precision fp32 (or another one it supports)')


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint of the tiny model (random weights)."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    path = str(tmp_path / 'tiny.pth')
    model = MODELS.build(Config.fromfile(TINY).model)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture
def image(tmp_path):
    path = str(tmp_path / 'scene.png')
    rgb = np.random.RandomState(0).randint(0, 256, (96, 120, 3), np.uint8)
    assert cv2.imwrite(path, rgb)
    return path


@pytest.mark.parametrize('tool,args', [
    ('infer.py', [
        '--image', 'IMAGE', '--text', 'the car', '--out-dir', 'OUT',
        '--device', 'cpu'
    ]),
    ('test.py', ['CHECKPOINT', '--work-dir', 'OUT']),
    ('demo_app.py', ['--checkpoint', 'CHECKPOINT', '--device', 'cpu']),
])
def test_unsupported_bf16_is_one_error_line(tool, args, tmp_path, checkpoint,
                                            image, monkeypatch, capsys):
    """Before anything is built or written; no fp32 run instead."""
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: False)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)

    def no_build(*args, **kwargs):
        raise AssertionError('a model was built')

    monkeypatch.setattr(MODELS, 'build', no_build)
    out = str(tmp_path / 'out')
    names = {'IMAGE': image, 'OUT': out, 'CHECKPOINT': checkpoint}
    argv = [osp.join(REPO, 'tools', tool), TINY]
    argv += [names.get(arg, arg) for arg in args] + ['--precision', 'bf16']
    monkeypatch.setattr(sys, 'argv', argv)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(argv[0], run_name='__main__')
    assert info.value.code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == NO_BF16
    assert not osp.exists(out)


@pytest.mark.slow
def test_infer_int8_image_geotiff_and_refusal(tmp_path, checkpoint, image):
    tool = [sys.executable, osp.join(REPO, 'tools', 'infer.py'), TINY]
    out = str(tmp_path / 'out')
    done = run_tool(tool + [
        '--checkpoint', checkpoint, '--image', image, '--text', 'the car',
        '--out-dir', out, '--precision', 'int8', '--device', 'cpu'
    ])
    assert done.returncode == 0, done.stderr[-2000:]
    assert osp.isfile(osp.join(out, 'scene_mask.png'))
    rasterio = pytest.importorskip('rasterio')
    scene = str(tmp_path / 'scene.tif')
    with rasterio.open(
            scene,
            'w',
            driver='GTiff',
            height=150,
            width=200,
            count=3,
            dtype='uint8') as dst:
        dst.write(
            np.random.RandomState(0).randint(0, 256, (3, 150, 200), np.uint8))
    done = run_tool(tool + [
        '--checkpoint', checkpoint, '--geotiff', scene, '--text', 'tanks',
        '--out-dir', out, '--precision', 'int8', '--device', 'cpu',
        '--tile-size', '128', '--batch-size', '4'
    ])
    assert done.returncode == 0, done.stderr[-2000:]
    assert osp.isfile(osp.join(out, 'scene_mask.tif'))
    refused = run_tool(tool + [
        '--image', image, '--text', 'the car', '--out-dir',
        str(tmp_path / 'none'), '--precision', 'int8', '--device', 'cuda'
    ])
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        'error: precision int8 cannot run on cuda: int8 dynamic quantization '
        'runs on the CPU only, not on cuda (use --device cpu); use precision '
        'fp32 (or another one it supports)')
    assert not osp.exists(tmp_path / 'none')


@pytest.mark.slow
def test_test_tool_scores_in_int8(tmp_path, write_config, checkpoint):
    config = write_config()
    results = str(tmp_path / 'int8.json')
    done = run_tool([
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'), config, checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--precision', 'int8', '--results', results
    ])
    assert done.returncode == 0, done.stderr[-2000:]
    with open(results) as f:
        written = json.load(f)
    assert '--precision int8' in written['command']
    assert 'mIoU' in json.dumps(written)
    assert glob.glob(str(tmp_path / 'work' / '*' / 'test_results.json'))


@pytest.mark.slow
def test_agreement_of_test_runs_is_rendered(tmp_path, write_config, checkpoint,
                                            monkeypatch):
    """tools/test.py in fp32 and int8, compared and rendered."""
    config = write_config()
    runs = []
    for precision in ('fp32', 'int8'):
        results = str(tmp_path / f'{precision}.json')
        masks = str(tmp_path / precision)
        done = run_tool([
            sys.executable,
            osp.join(REPO, 'tools',
                     'test.py'), config, checkpoint, '--work-dir',
            str(tmp_path / 'work'), '--precision', precision, '--results',
            results, '--out', masks
        ])
        assert done.returncode == 0, done.stderr[-2000:]
        runs += ['--run', precision, results, masks]
    agreement = str(tmp_path / 'agreement.json')
    done = run_tool([
        sys.executable,
        osp.join(REPO, 'tools', 'analysis', 'precision_agreement.py'), *runs,
        '--out', agreement
    ])
    assert done.returncode == 0, done.stderr[-2000:]
    with open(agreement) as f:
        data = json.load(f)
    fp32, int8 = data['runs']
    assert (fp32['name'], int8['name']) == ('fp32', 'int8')
    assert int8['expressions'] == fp32['expressions'] > 0
    assert 0 <= int8['mask_iou_min'] <= int8['mask_iou_mean'] <= 1
    assert int8['delta_mIoU'] == pytest.approx(
        int8['mIoU'] - fp32['mIoU'], abs=0.01)
    doc = tmp_path / 'README.md'
    doc.write_text('<!-- results:demo-precision -->\n'
                   '<!-- /results:demo-precision -->\n')
    done = run_tool([
        sys.executable,
        osp.join(REPO, 'tools', 'analysis', 'render_results.py'), 'agreement',
        agreement, '--target', f'{doc}:demo-precision'
    ],
                    env={'WORK': str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    text = doc.read_text()
    assert '| int8 |' in text and '--precision int8' in text
