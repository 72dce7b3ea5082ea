import dataclasses

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from segment_anything import sam_model_registry
from segment_anything.modeling import (ImageEncoderViT, MaskDecoder,
                                       TwoWayTransformer)
from tiny_sam import TINY_SAM

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.decode_heads import GroundingSAMHead
from sgsrf_mmseg.models.sam.prompts import encode_prompts
from sgsrf_mmseg.models.utils.mask_detail_stem import MaskDetailStem
from sgsrf_mmseg.models.utils.stage_outputs import (GroundedImage, Grounding,
                                                    SAMPrompts)

D = 16


def _head(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='GroundingSAMHead', sam=TINY_SAM, cue_channels=D)
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    with torch.no_grad():  # non-trivial SAM weights
        for name, param in head.named_parameters():
            if name.startswith('image_encoder.') and 'rel_pos' in name:
                param.normal_(std=0.2)
    return head


def _inputs(b=2, k=3, size=64, prompts=True):
    torch.manual_seed(1)
    img = torch.rand(b, 3, size, size) * 255
    grounding = Grounding(
        visual=torch.randn(b, D, 16, 16),
        words=torch.randn(b, 4, D),
        sentence=torch.randn(b, D),
        pad_mask=torch.zeros(b, 4, dtype=torch.bool),
        cue_logits=torch.randn(b, 1, 16, 16),
        position=torch.zeros(256, D))
    sam_prompts = SAMPrompts(
        queries=torch.randn(b, k, 32), dense=torch.randn(
            b, 32, 16, 16)) if prompts else None
    return GroundedImage(image=img, grounding=grounding, prompts=sam_prompts)


def _samples(b=2, size=64):
    samples = []
    for _ in range(b):
        label = torch.randint(0, 2, (1, size, size))
        label[..., -6:] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(
            dict(img_shape=(size, size), pad_shape=(size, size)))
        samples.append(sample)
    return samples


def test_forward_shapes_and_predict():
    head = _head()
    assert head.image_embedding_size == (8, 8)
    assert head.prompt_encoder.embed_dim == 32
    inputs = _inputs()
    logits, iou = head.decode(inputs)
    assert logits.shape == (2, 1, 32, 32) and iou.shape == (2, 1)
    assert torch.equal(head(inputs), logits)
    # no prompts (SAM's no-mask embedding), another input size
    other = _inputs(size=48, prompts=False)
    assert head(other).shape == (2, 1, 32, 32)
    metas = [s.metainfo for s in _samples()]
    assert head.predict(inputs, metas).shape == (2, 1, 64, 64)
    bad = dataclasses.replace(
        inputs, prompts=SAMPrompts(queries=torch.randn(2, 3, 16)))
    with pytest.raises(ValueError, match='queries'):
        head(bad)
    with pytest.raises(ValueError, match='needs grounding'):
        head([inputs.image])


def test_prompts_are_encoded_by_sam_and_no_mask_embed_added_once():
    head = _head()
    embedding = torch.zeros(2, 32, 8, 8)
    coords = torch.tensor([[[0.25, 0.5]], [[0.75, 0.125]]])
    labels = torch.ones(2, 1)
    boxes = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 1.0, 1.0]])
    dense = torch.randn(2, 32, 16, 16)
    queries = torch.randn(2, 3, 32)
    sparse, dense_out = encode_prompts(
        head.prompt_encoder,
        SAMPrompts(
            queries=queries, points=(coords, labels), boxes=boxes,
            dense=dense), embedding, 64)
    expected, _ = head.prompt_encoder(
        points=(coords * 64 - 0.5, labels),
        boxes=boxes * 64 - torch.tensor([0., 0., 1., 1.]),
        masks=None)
    torch.testing.assert_close(sparse, torch.cat([queries, expected], 1))
    no_mask = head.prompt_encoder.no_mask_embed.weight.reshape(1, 32, 1, 1)
    torch.testing.assert_close(
        dense_out,
        no_mask + F.interpolate(dense, size=(8, 8), mode='bilinear'))
    sparse, dense_out = encode_prompts(head.prompt_encoder, None, embedding,
                                       64)
    assert sparse.shape == (2, 0, 32)
    torch.testing.assert_close(dense_out, no_mask.expand(2, -1, 8, 8))


def test_losses_and_gradients():
    head = _head(loss_iou=dict(loss_weight=1.0))
    inputs = _inputs()
    for t in (inputs.grounding.sentence, inputs.grounding.cue_logits,
              inputs.prompts.queries, inputs.prompts.dense):
        t.requires_grad_()
    losses = head.loss(inputs, _samples())
    assert set(losses) == {'loss_mask_bce', 'loss_dice', 'loss_iou'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    no_grad = [
        n for n, p in head.named_parameters()
        if p.requires_grad and p.grad is None
    ]
    assert not no_grad
    for adapter in head.grounding_adapters:
        assert adapter.film.weight.grad.abs().sum() > 0
    assert inputs.prompts.queries.grad.abs().sum() > 0
    assert inputs.prompts.dense.grad.abs().sum() > 0
    # unused SAM parts are frozen
    assert not any(p.requires_grad for p in head.prompt_encoder.parameters())
    assert not head.mask_decoder.output_hypernetworks_mlps[1].layers[
        0].weight.requires_grad
    assert 'loss_iou' not in _head().loss(inputs, _samples())


def test_losses_skip_ignored_pixels():
    head = _head()
    inputs = _inputs()
    samples = _samples()
    with torch.no_grad():
        out = head(inputs)
        losses = head.loss_by_feat(out, samples)
    logits = F.interpolate(out, size=(64, 64), mode='bilinear')[:, 0]
    label = torch.cat([s.gt_sem_seg.data for s in samples])
    valid = label != 255
    bce = F.binary_cross_entropy_with_logits(logits[valid],
                                             label[valid].float())
    torch.testing.assert_close(losses['loss_mask_bce'], bce)
    dice = []
    for i in range(2):
        prob = logits[i][valid[i]].sigmoid()
        target = label[i][valid[i]].float()
        dice.append(1 - (2 * (prob * target).sum() + 1) /
                    (prob.sum() + target.sum() + 1))
    torch.testing.assert_close(losses['loss_dice'], torch.stack(dice).mean())


def _plain_sam(head):
    """segment_anything's own modules with the head's SAM weights."""
    encoder = ImageEncoderViT(
        img_size=64,
        patch_size=8,
        embed_dim=32,
        depth=2,
        num_heads=2,
        out_chans=32,
        norm_layer=lambda d: nn.LayerNorm(d, eps=1e-6),
        use_rel_pos=True,
        window_size=4,
        global_attn_indexes=(1, ))
    decoder = MaskDecoder(
        transformer_dim=32,
        iou_head_hidden_dim=32,
        transformer=TwoWayTransformer(
            depth=2, embedding_dim=32, num_heads=8, mlp_dim=64))
    encoder.load_state_dict(head.image_encoder.state_dict())
    decoder.load_state_dict(head.mask_decoder.state_dict())
    return encoder, decoder


@torch.no_grad()
def test_zero_init_adapters_leave_sam_unchanged():
    head = _head().eval()
    inputs = _inputs()
    logits, iou_pred = head.decode(inputs)
    plain_head = _head(use_grounding_adapters=False).eval()
    plain_head.load_state_dict(head.state_dict(), strict=False)
    torch.testing.assert_close(plain_head(inputs), logits)
    encoder, decoder = _plain_sam(head)
    norm = head.normalizer
    embedding = encoder((inputs.image - norm.mean) / norm.std)
    pe = head.prompt_encoder.get_dense_pe()
    no_mask = head.prompt_encoder.no_mask_embed.weight.reshape(1, 32, 1, 1)
    dense = no_mask + F.interpolate(
        inputs.prompts.dense, size=(8, 8), mode='bilinear')
    for i in range(2):
        masks, iou = decoder(embedding[i:i + 1], pe,
                             inputs.prompts.queries[i:i + 1], dense[i:i + 1],
                             False)
        torch.testing.assert_close(
            logits[i:i + 1], masks, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(
            iou_pred[i:i + 1], iou, rtol=1e-4, atol=1e-4)


def test_a_detail_stem_starts_as_sams_decoder_and_then_adds_detail():
    head = _head(detail_stem=dict(channels=4))
    plain = _head()
    missing, unexpected = plain.load_state_dict(
        head.state_dict(), strict=False)
    assert not missing and unexpected and all(
        k.startswith('detail_stem.') for k in unexpected)
    inputs = _inputs()
    logits, _ = head.decode(inputs)
    with torch.no_grad():
        torch.testing.assert_close(logits, plain.decode(inputs)[0])
    sum(head.loss(inputs, _samples()).values()).backward()
    assert head.detail_stem.proj.weight.grad.abs().sum() > 0
    with torch.no_grad():
        head.detail_stem.proj.weight.normal_()
        # the stem's share of the logits sees the image at its own
        # resolution: a one-pixel change moves it most at that pixel
        image = inputs.image.clone()
        image[:, :, 40, 40] += 100
        changed = dataclasses.replace(inputs, image=image)
        share = [
            head.decode(x)[0] - plain.decode(x)[0] for x in (inputs, changed)
        ]
        moved = (share[1] - share[0]).abs()
    for peak in moved.flatten(1).argmax(1):
        row, col = divmod(peak.item(), moved.shape[-1])
        assert abs(row - 20) <= 1 and abs(col - 20) <= 1


@pytest.mark.parametrize('patch, stride', [(8, 2), (16, 4)])
def test_the_detail_stem_meets_the_upscaled_embedding(patch, stride):
    head = _head(
        sam=dict(TINY_SAM, patch_size=patch), detail_stem=dict(channels=4))
    he = 64 // patch
    detail = head.detail_stem(torch.zeros(2, 3, 64, 64))
    assert detail.shape == (2, 4, 4 * he, 4 * he)
    assert head.decode(_inputs())[0].shape == (2, 1, 4 * he, 4 * he)
    with pytest.raises(ValueError, match='do not match the upscaled'):
        embedding, _ = head.embed(_inputs())
        head.mask_decoder.predict_masks(embedding,
                                        head.prompt_encoder.get_dense_pe(),
                                        torch.zeros(2, 0, 32),
                                        torch.zeros(1, 32, he, he),
                                        torch.zeros(2, 4, 2 * he, 2 * he))


def test_a_detail_stem_needs_a_power_of_two_stride():
    with pytest.raises(ValueError, match='power-of-two'):
        MaskDetailStem(out_channels=4, stride=3)


def test_frozen_stages_keep_adapters_trainable():
    head = _head(frozen_stages=2, grad_checkpointing=True).train()
    encoder = head.image_encoder
    assert not any(p.requires_grad for p in encoder.parameters())
    assert not encoder.blocks[0].training
    inputs = _inputs()
    losses = head.loss(inputs, _samples())
    sum(losses.values()).backward()
    assert all(p.grad is None for p in encoder.parameters())
    assert head.grounding_adapters[0].film.weight.grad.abs().sum() > 0
    no_grad = [
        n for n, p in head.named_parameters()
        if p.requires_grad and p.grad is None
    ]
    assert not no_grad
    # without adapters the frozen encoder runs without a graph
    head = _head(frozen_stages=2, use_grounding_adapters=False)
    assert not head.encode_image(inputs.image).requires_grad
    head = _head(frozen_stages=1)
    assert head.encode_image(inputs.image, inputs.grounding).requires_grad
    assert not head.image_encoder.patch_embed.proj.weight.requires_grad
    assert head.image_encoder.blocks[1].attn.qkv.weight.requires_grad


@pytest.mark.slow
def test_official_vit_b_file_loads_at_512_and_1024(tmp_path):
    torch.manual_seed(0)
    sam = sam_model_registry['vit_b'](checkpoint=None)
    state = sam.state_dict()
    del sam
    assert not any(k.startswith('pixel_') for k in state)
    path = str(tmp_path / 'sam_vit_b_01ec64.pth')
    torch.save(state, path)
    head = GroundingSAMHead(
        sam=dict(arch='vit_b', img_size=1024), pretrained=path)
    head.init_weights()
    loaded = head.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    assert set(loaded) - set(state) == {
        k
        for k in loaded if k.startswith('grounding_adapters.')
    }
    del head, loaded
    head = GroundingSAMHead(
        sam=dict(arch='vit_b', img_size=512), pretrained=path)
    head.init_weights()
    assert head.image_encoder.pos_embed.shape == (1, 32, 32, 768)
    assert head.image_encoder.blocks[2].attn.rel_pos_h.shape == (63, 64)
    assert head.image_encoder.blocks[0].attn.rel_pos_h.shape == (27, 64)
    assert torch.equal(head.image_encoder.blocks[0].attn.rel_pos_h,
                       state['image_encoder.blocks.0.attn.rel_pos_h'])
    assert torch.equal(head.mask_decoder.iou_token.weight,
                       state['mask_decoder.iou_token.weight'])
    assert head.prompt_encoder.input_image_size == (512, 512)
