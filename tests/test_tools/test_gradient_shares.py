"""The gradient-share report: each loss term's pull on each model part."""
import json
import os.path as osp
import sys

import pytest
from mmengine.config import Config
from tool_runner import GENERATOR, REPO, run_tool

from sgsrf_mmseg.analysis.gradient_shares import gradient_shares, render_table

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def config(tmp_path_factory, synthetic_root):
    path = tmp_path_factory.mktemp('grad') / 'cfg.py'
    base = osp.join(REPO, 'configs/sgsrf/sgsrf_tiny_synthetic.py')
    path.write_text(
        f'_base_ = {base!r}\n'
        f'train_dataloader = dict(batch_size=2, num_workers=0, dataset=dict('
        f'data_root={synthetic_root!r}, generator={GENERATOR!r}))\n')
    return str(path)


@pytest.fixture(scope='module')
def report(config):
    return gradient_shares(Config.fromfile(config), num_batches=1)


def test_every_term_on_every_part(report):
    norms, share = report['norms'], report['mask_share']
    assert {
        'decode.loss_mask_bce', 'decode.loss_dice', 'scr.loss_struct',
        'scr.loss_prompt_struct', 'scr.loss_mask_drift', 'scr.loss_ground',
        'scr.loss_affinity'
    } == set(norms)
    assert {
        'image_encoder', 'text_encoder', 'refiner', 'prompt_generator',
        'decode_head.image_encoder', 'decode_head.mask_decoder',
        'decode_head.grounding_adapters'
    } <= set(share)
    # the cue term acts on CCR's output: it never reaches GPG or SAM; each
    # stage's structure term reaches its stage and not the later ones
    for part in ('prompt_generator', 'decode_head.mask_decoder'):
        assert norms['scr.loss_ground'][part] == 0
    assert norms['scr.loss_ground']['refiner'] > 0
    assert norms['scr.loss_struct']['prompt_generator'] == 0
    assert norms['scr.loss_prompt_struct']['prompt_generator'] > 0
    assert norms['scr.loss_prompt_struct']['decode_head.mask_decoder'] == 0
    assert norms['scr.loss_mask_drift']['decode_head.mask_decoder'] > 0
    assert share['decode_head.mask_decoder'] < 1.0
    assert all(0 <= v <= 1 for v in share.values())
    table = render_table(report)
    assert table.splitlines()[0].startswith('| part | decode.loss_mask_bce')


def test_a_term_weight_scales_its_gradients(config, report):
    cfg = Config.fromfile(config)
    base = report['norms']
    cfg.model.structural_loss.ground_weight *= 3
    tripled = gradient_shares(cfg, num_batches=1)['norms']
    for part, norm in base['scr.loss_ground'].items():
        assert tripled['scr.loss_ground'][part] == pytest.approx(
            3 * norm, rel=1e-4)
    assert tripled['decode.loss_dice'] == pytest.approx(
        base['decode.loss_dice'], rel=1e-4)


def test_command_line_writes_the_report(config, tmp_path):
    out = tmp_path / 'shares.json'
    result = run_tool([
        sys.executable, 'tools/analysis/gradient_shares.py', config,
        '--batches', '1', '--out',
        str(out)
    ])
    assert result.returncode == 0, result.stderr[-3000:]
    assert '| refiner |' in result.stdout
    assert set(json.loads(
        out.read_text())) == {'norms', 'mask_share', 'batches', 'checkpoint'}
