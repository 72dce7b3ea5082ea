import copy
import os.path as osp

import pytest
from mmengine.config import Config

from sgsrf_mmseg.models.input_geometry import (configured_input_sizes,
                                               model_input_size,
                                               set_model_input_size,
                                               tower_patch_sizes)

TINY = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'models', 'sgsrf_tiny.py')


@pytest.fixture
def tiny_model_cfg():
    return copy.deepcopy(Config.fromfile(TINY).model)


def test_set_model_input_size_sets_every_configured_field(tiny_model_cfg):
    set_model_input_size(tiny_model_cfg, 96)
    assert configured_input_sizes(tiny_model_cfg) == [
        ('model.data_preprocessor.size', (96, 96)),
        ('model.image_encoder.img_size', 96),
        ('model.decode_head.sam.img_size', 96),
    ]
    assert model_input_size(tiny_model_cfg) == (96, 96)
    # the other SAM sizes are kept
    assert tiny_model_cfg['decode_head']['sam']['patch_size'] == 8
    assert tower_patch_sizes(tiny_model_cfg) == {
        'model.image_encoder': 8,
        'model.decode_head.sam': 8
    }


@pytest.mark.parametrize('head', ['GroundingSAMHead', 'SAMFeatureHead'])
def test_set_model_input_size_fills_fields_left_to_defaults(head):
    model_cfg = dict(
        image_encoder=dict(type='CLIPImageEncoder'),
        decode_head=dict(type=head))
    set_model_input_size(model_cfg, (64, 64))
    assert configured_input_sizes(model_cfg) == [
        ('model.image_encoder.img_size', 64),
        ('model.decode_head.sam.img_size', 64),
    ]
    assert model_cfg['decode_head']['sam'] == dict(arch='vit_b', img_size=64)
    assert 'data_preprocessor' not in model_cfg
    assert tower_patch_sizes(model_cfg)['model.decode_head.sam'] == 16


def test_set_model_input_size_non_square(tiny_model_cfg):
    del tiny_model_cfg['decode_head']
    set_model_input_size(tiny_model_cfg, (64, 96))
    assert model_input_size(tiny_model_cfg) == (64, 96)
    assert tiny_model_cfg['image_encoder']['img_size'] == (64, 96)
    model_cfg = dict(decode_head=dict(type='GroundingSAMHead'))
    with pytest.raises(ValueError, match='decode_head.sam.img_size'):
        set_model_input_size(model_cfg, (64, 96))
