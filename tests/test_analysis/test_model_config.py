import os.path as osp

import pytest
import torch

from sgsrf_mmseg.analysis.benchmark import BenchmarkSettings
from sgsrf_mmseg.analysis.benchmark.comparisons import (SWITCHES,
                                                        available_switches)
from sgsrf_mmseg.analysis.benchmark.inputs import build_model, load_model_cfg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', '_base_', 'models', 'sgsrf_tiny.py')


def test_switches_of_tiny_config():
    model_cfg, size = load_model_cfg(BenchmarkSettings(TINY, device='cpu'))
    assert size == 128
    model = build_model(model_cfg, torch.device('cpu'))
    switches = available_switches(model_cfg, model, [])
    assert set(switches) == set(SWITCHES)
    assert switches['sam_grad_checkpointing'] == {
        'decode_head.grad_checkpointing': True
    }
    assert switches['text_trim_padding'] == {
        'text_encoder.trim_padding': False
    }
    # a whole-tower freeze already in the config is not offered again
    model_cfg['image_encoder']['frozen_stages'] = 3
    assert 'freeze_clip_image' not in available_switches(model_cfg, model, [])
    with pytest.raises(ValueError, match='unknown switches'):
        available_switches(model_cfg, model, ['use_flash'])


def test_input_size_and_weights_dropped(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        f"_base_ = [{TINY!r}]\n"
        "model = dict(decode_head=dict(pretrained='missing_sam.pth'),\n"
        "             image_encoder=dict(pretrained='missing_clip.bin'))\n")
    model_cfg, size = load_model_cfg(
        BenchmarkSettings(str(config), input_size=96))
    assert size == 96
    assert model_cfg['data_preprocessor']['size'] == (96, 96)
    assert model_cfg['image_encoder']['img_size'] == 96
    assert model_cfg['decode_head']['sam']['img_size'] == 96
    assert model_cfg['decode_head']['pretrained'] is None
    assert model_cfg['image_encoder']['pretrained'] is None
    with pytest.raises(ValueError, match='no model dict'):
        empty = tmp_path / 'empty.py'
        empty.write_text('x = 1\n')
        load_model_cfg(BenchmarkSettings(str(empty)))


def test_input_size_read_from_the_config(tmp_path):
    config = tmp_path / 'wide.py'
    config.write_text(f"_base_ = [{TINY!r}]\n"
                      "model = dict(data_preprocessor=dict(size=(64, 96)))\n")
    with pytest.raises(ValueError, match=r'wide.py: .*\(64, 96\) is not sq'):
        load_model_cfg(BenchmarkSettings(str(config)))
    model_cfg, size = load_model_cfg(
        BenchmarkSettings(str(config), input_size=64))
    assert size == 64 and model_cfg['data_preprocessor']['size'] == (64, 64)


def test_settings_are_checked():
    with pytest.raises(ValueError, match='iters and batch_size'):
        BenchmarkSettings(TINY, iters=0)
    with pytest.raises(ValueError, match='skip'):
        BenchmarkSettings(TINY, skip=['train'])
    with pytest.raises(ValueError, match='dtype'):
        BenchmarkSettings(TINY, dtype='fp16')
