"""SAM heads as the decode head of MMSegmentation's EncoderDecoder."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from segment_anything import sam_model_registry
from tiny_sam import TINY_SAM

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.utils.stage_outputs import GroundedImage

PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=None,
    std=None,
    bgr_to_rgb=True,
    size=(64, 64),
    seg_pad_val=255)
CLIP_BACKBONE = dict(
    type='CLIPImageEncoder',
    model_name=None,
    embed_dim=32,
    vision_cfg=dict(
        layers=2, width=32, head_width=16, patch_size=8, image_size=64),
    img_size=64,
    out_indices=(0, 1))


def encoder_decoder(head, backbone=CLIP_BACKBONE, test_cfg=None):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='EncoderDecoder',
            data_preprocessor=PREPROCESSOR,
            backbone=backbone,
            decode_head=head,
            test_cfg=ConfigDict(test_cfg or dict(mode='whole'))))


def batch(n=2, size=64):
    torch.manual_seed(1)
    samples = []
    for i in range(n):
        label = torch.zeros(1, size, size, dtype=torch.long)
        label[:, 8:40, 8 + 8 * i:40 + 8 * i] = 1
        samples.append(
            SegDataSample(
                metainfo=dict(
                    ori_shape=(size, size),
                    img_shape=(size, size),
                    pad_shape=(size, size)),
                gt_sem_seg=PixelData(data=label)))
    inputs = [
        torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        for _ in range(n)
    ]
    return dict(inputs=inputs, data_samples=samples)


FEATURE_HEAD = dict(
    type='SAMFeatureHead', sam=TINY_SAM, in_channels=32, in_index=-1)
IMAGE_HEAD = dict(
    type='GroundingSAMHead', sam=TINY_SAM, use_grounding_adapters=False)


@pytest.mark.parametrize('head,backbone', [
    (FEATURE_HEAD, CLIP_BACKBONE),
    (IMAGE_HEAD, dict(type='RawImageBackbone')),
])
def test_trains_and_predicts_in_encoder_decoder(head, backbone):
    model = encoder_decoder(head, backbone)
    if head['type'] == 'SAMFeatureHead':
        assert model.decode_head.image_encoder is None
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    first = model.train_step(batch(), wrapper)
    assert {'decode.loss_mask_bce', 'decode.loss_dice'} <= set(first)
    for _ in range(5):
        last = model.train_step(batch(), wrapper)
    assert last['loss'] < first['loss']
    outputs = model.val_step(batch())
    for out in outputs:
        assert out.pred_sem_seg.data.shape == (1, 64, 64)
        assert set(out.pred_sem_seg.data.unique().tolist()) <= {0, 1}
        assert out.seg_logits.data.shape == (1, 64, 64)


def test_slide_inference_reads_the_crop_size():
    model = encoder_decoder(
        FEATURE_HEAD,
        test_cfg=dict(mode='slide', crop_size=(32, 32), stride=(16, 16)))
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        outputs = model.predict(data['inputs'], data['data_samples'])
    assert outputs[0].seg_logits.data.shape == (1, 64, 64)


def test_grounding_adapters_need_a_grounded_input():
    with pytest.raises(ValueError, match='needs grounding'):
        model = encoder_decoder(
            dict(IMAGE_HEAD, use_grounding_adapters=True),
            dict(type='RawImageBackbone'))
        model.val_step(batch())


def test_feature_head_refuses_a_grounded_input():
    head = MODELS.build(FEATURE_HEAD)
    with pytest.raises(ValueError, match='needs GroundingSAMHead'):
        head.embed(GroundedImage(image=torch.zeros(1, 3, 64, 64)))


def test_normalising_twice_is_refused():
    model = encoder_decoder(IMAGE_HEAD, dict(type='RawImageBackbone'))
    model.data_preprocessor.mean = torch.tensor([123.7, 116.3,
                                                 103.5]).view(3, 1, 1)
    model.data_preprocessor.std = torch.tensor([58.4, 57.1,
                                                57.4]).view(3, 1, 1)
    model.data_preprocessor._enable_normalize = True
    with pytest.raises(ValueError, match='data_preprocessor.mean=None'):
        model.val_step(batch())


@pytest.mark.slow
def test_official_file_in_features_mode(tmp_path):
    torch.manual_seed(0)
    sam = sam_model_registry['vit_b'](checkpoint=None)
    path = str(tmp_path / 'sam_vit_b_01ec64.pth')
    torch.save(sam.state_dict(), path)
    head = MODELS.build(
        dict(
            type='SAMFeatureHead',
            sam=dict(arch='vit_b', img_size=512),
            in_channels=96,
            pretrained=path))
    head.init_weights()
    torch.testing.assert_close(head.mask_decoder.iou_token.weight,
                               sam.mask_decoder.iou_token.weight)
    assert not any(k.startswith('image_encoder') for k in head.state_dict())
