"""The text-swap test with a tiny random model on the small synthetic
dataset: its mechanics (a random model's numbers mean nothing)."""
import json
import os.path as osp
import statistics
import sys

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from tool_runner import run_tool

from sgsrf_mmseg.analysis.text_swap import text_swap_test

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow

#: The val pipeline gives every sample the same expression.
SAME_TEXT = """
val_dataloader['dataset']['pipeline'] = [
    dict(type='LoadRasterImage'),
    dict(type='LoadReferringMask'),
    dict(type='ReplaceExpression', text='the red car'),
    dict(type='PackReferringInputs'),
]
"""


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def test_each_scene_gets_another_scenes_expression(write_config):
    result = text_swap_test(write_config(), None, num=4, seed=1, device='cpu')
    assert (result['kind'], result['split'],
            result['num']) == ('sgsrf-text-swap', 'val', 4)
    scenes = result['scenes']
    assert len({scene['img_path'] for scene in scenes}) == 4
    own = {scene['index']: scene['text'] for scene in scenes}
    assert sorted(scene['swapped_from'] for scene in scenes) == sorted(own)
    for scene in scenes:
        assert scene['swapped_from'] != scene['index']
        assert scene['swapped_text'] == own[scene['swapped_from']]
    for key in ('own', 'swapped'):
        ious = [scene[f'{key}_iou'] for scene in scenes]
        assert all(0.0 <= iou <= 1.0 for iou in ious)
        assert result[f'{key}_mIoU'] == round(100 * statistics.mean(ious), 2)
    assert result['difference'] == round(
        result['own_mIoU'] - result['swapped_mIoU'], 2)
    again = text_swap_test(write_config(), None, num=4, seed=1, device='cpu')
    assert [s['swapped_from'] for s in again['scenes']] == \
        [s['swapped_from'] for s in scenes]
    json.dumps(result)


def test_identical_expressions_give_identical_ious(write_config):
    result = text_swap_test(
        write_config(extra=SAME_TEXT), None, num=5, device='cpu')
    assert result['same_text'] == 5
    for scene in result['scenes']:
        assert scene['text'] == scene['swapped_text'] == 'the red car'
        assert scene['own_iou'] == scene['swapped_iou']
    assert result['difference'] == 0.0


def test_more_scenes_than_the_split_has(write_config, synthetic_root):
    # each referent of a synthetic scene is an image file of its own
    with open(osp.join(synthetic_root, 'synthetic_info.json')) as f:
        images = json.load(f)['splits']['val']['referents']
    assert images > 6
    with pytest.raises(
            ValueError,
            match=f'between 2 and the {images} images of the '
            'val split, got 50'):
        text_swap_test(write_config(), None, num=50, device='cpu')


def test_text_swap_tool(tmp_path, write_config):
    config = write_config()
    model = MODELS.build(Config.fromfile(config).model)
    checkpoint = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    done = run_tool([
        sys.executable, 'tools/analysis/text_swap.py', config,
        str(checkpoint), '--num', '3', '--split', 'test', '--seed', '2'
    ])
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'text swap on 3 test scenes (seed 2):' in done.stdout
    assert 'difference' in done.stdout
    result = json.loads((tmp_path / 'text_swap_test.json').read_text())
    assert result['checkpoint'] == str(checkpoint) and result['num'] == 3
    assert result['command'].startswith('python tools/analysis/text_swap.py')
    assert f"difference            {result['difference']:6.2f} points" \
        in done.stdout
