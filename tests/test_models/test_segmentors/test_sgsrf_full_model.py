import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import sgsrf_mmseg  # noqa: F401,I001

CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'models',
    'sgsrf_vit-b16_sam-vit-b.py')


@pytest.mark.slow
def test_full_model_forward_backward_at_512():
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(CONFIG).model)
    inputs = torch.rand(1, 3, 512, 512) * 255
    gt = torch.zeros(1, 512, 512, dtype=torch.long)
    gt[:, 100:200, 300:420] = 1
    sample = SegDataSample(
        metainfo=dict(
            text='the white storage tank at the bottom right',
            text_parse=dict(
                words='the white storage tank at the bottom right'.split(),
                spaces=[True] * 7 + [False],
                heads=[3, 3, 3, 3, 3, 7, 7, 4],
                deps=[
                    'det', 'amod', 'compound', 'ROOT', 'prep', 'det',
                    'compound', 'pobj'
                ]),
            ori_shape=(512, 512),
            img_shape=(512, 512),
            pad_shape=(512, 512)),
        gt_sem_seg=PixelData(data=gt))
    losses = model.loss(inputs, [sample])
    assert {'decode.loss_mask_bce', 'scr.loss_ground'} <= set(losses)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.refiner.cue_bias.grad is not None
    assert model.image_encoder.visual.conv1.weight.grad is not None
    assert model.decode_head.image_encoder.patch_embed.proj.weight.grad \
        is not None
