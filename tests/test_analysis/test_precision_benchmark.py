"""``benchmark.py --precisions`` on the tiny model, and its rendered block."""
import json
import os.path as osp
import runpy

import pytest
import torch

from sgsrf_mmseg.analysis.benchmark import (PrecisionResults,
                                            PrecisionSettings,
                                            render_precision_block,
                                            run_precisions)
from sgsrf_mmseg.apis.precision import PrecisionError
from sgsrf_mmseg.utils.portable_paths import PortablePaths

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', '_base_', 'models', 'sgsrf_tiny.py')
RENDER = osp.join(REPO, 'tools', 'analysis', 'render_results.py')


@pytest.fixture(scope='module')
def results():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    pytest.importorskip('rasterio')
    settings = PrecisionSettings(
        TINY,
        precisions=['int8', 'bf16'],
        batch_sizes=(1, 2),
        iters=1,
        warmup=0,
        scene_size=200,
        scene_batch_sizes=(1, 2))
    yield run_precisions(settings, command='python bench.py')
    torch.set_num_threads(threads)


def test_every_precision_and_batch_is_measured(results):
    assert results.precisions == ['fp32', 'int8', 'bf16']
    assert [(p.precision, p.batch_size) for p in results.predict
            ] == [(p, b) for p in ('fp32', 'int8', 'bf16') for b in (1, 2)]
    assert [f.batch_size for f in results.floor] == [1, 2]
    for entry in results.predict + results.floor:
        assert entry.ms_per_image > 0
    for entry in results.predict:
        floor = next(f for f in results.floor
                     if f.batch_size == entry.batch_size)
        assert entry.over_floor == pytest.approx(
            entry.ms_per_image / floor.ms_per_image, abs=1e-3)


def test_agreement_with_fp32(results):
    assert [a.precision for a in results.agreement] == ['int8', 'bf16']
    for entry in results.agreement:
        assert 0 < entry.max_abs_prob_diff < 0.05
        assert 0.99 < entry.logit_cosine <= 1
        assert 0 <= entry.mask_iou <= 1


def test_scene_runs(results):
    assert results.scene_size == 200 and results.tile_size == 128
    runs = [(s.precision, s.batch_size) for s in results.scene]
    assert runs == [(p, b) for p in ('fp32', 'int8', 'bf16') for b in (1, 2)]
    assert {s.tiles for s in results.scene} == {4}
    assert results.scene[0].speedup == 1.0
    for entry in results.scene:
        assert entry.seconds > 0 and entry.speedup > 0


def test_json_round_trip_and_block(results, tmp_path, monkeypatch):
    data = json.loads(json.dumps(results.to_dict()))
    assert PrecisionResults.from_dict(data) == results
    with pytest.raises(ValueError, match="has no \\['predict'\\]"):
        PrecisionResults.from_dict(
            {
                k: v
                for k, v in data.items() if k != 'predict'
            }, 'x.json')
    block = render_precision_block(
        osp.join(REPO, 'work_dirs', 'p.json'), results, PortablePaths(REPO))
    assert '| int8 | 2 |' in block and '| bf16 | 0.' in block
    assert 'GeoTIFF 200 x 200 px (tiles 128 px)' in block
    assert block.endswith('`work_dirs/p.json`).')
    # the renderer writes it between the markers of a document
    path = tmp_path / 'results.json'
    path.write_text(json.dumps(data))
    doc = tmp_path / 'README.md'
    doc.write_text('a\n<!-- results:cpu -->\nold\n<!-- /results:cpu -->\nb\n')
    monkeypatch.setenv('WORK', str(tmp_path))
    monkeypatch.setattr('sys.argv', ['render_results.py'])
    render = runpy.run_path(RENDER)
    render['main'](['precision', str(path), '--target', f'{doc}:cpu'])
    text = doc.read_text()
    assert text.startswith('a\n<!-- results:cpu -->\n\n| precision')
    assert '`$WORK/results.json`' in text and 'old' not in text


def test_unsupported_precision_is_refused_first(monkeypatch):
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: False)
    with pytest.raises(PrecisionError, match='avx512_bf16'):
        run_precisions(PrecisionSettings(TINY, precisions=['bf16']))
