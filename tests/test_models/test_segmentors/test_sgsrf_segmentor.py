import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import sgsrf_mmseg  # noqa: F401,I001

CONFIG = osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'models',
    'sgsrf_tiny.py')
SIZE = 128
TEXTS = ['the red car on the left', 'two white storage tanks at the bottom']
PARSES = {
    TEXTS[0]:
    dict(
        words=TEXTS[0].split(),
        spaces=[True] * 5 + [False],
        heads=[2, 2, 2, 2, 5, 3],
        deps=['det', 'amod', 'ROOT', 'prep', 'det', 'pobj']),
    TEXTS[1]:
    dict(
        words=TEXTS[1].split(),
        spaces=[True] * 6 + [False],
        heads=[3, 3, 3, 3, 3, 6, 4],
        deps=['nummod', 'amod', 'compound', 'ROOT', 'prep', 'det', 'pobj']),
}
RELATION_TEXT = 'the red car next to the white building'
PARSES[RELATION_TEXT] = dict(
    words=RELATION_TEXT.split(),
    spaces=[True] * 7 + [False],
    heads=[2, 2, 2, 2, 7, 7, 7, 3],
    deps=['det', 'amod', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj'])


def model_cfg(**overrides):
    init_default_scope('mmseg')
    cfg = copy.deepcopy(Config.fromfile(CONFIG).model)
    cfg.update(overrides)
    return cfg


def build(**overrides):
    torch.manual_seed(0)
    return MODELS.build(model_cfg(**overrides))


def make_batch(n=2, size=SIZE, texts=TEXTS, empty_first=False):
    torch.manual_seed(1)
    inputs = torch.rand(n, 3, size, size) * 255
    samples = []
    for i in range(n):
        gt = torch.zeros(1, size, size, dtype=torch.long)
        if not (empty_first and i == 0):
            gt[:, 16:64, 8 + 40 * i:48 + 40 * i] = 1
        sample = SegDataSample(
            metainfo=dict(
                text=texts[i % len(texts)],
                text_parse=PARSES[texts[i % len(texts)]],
                ori_shape=(size, size),
                img_shape=(size, size),
                pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=gt)
        samples.append(sample)
    return inputs, samples


def test_loss_keys_from_every_stage():
    model = build()
    inputs, samples = make_batch(empty_first=True)
    losses = model(inputs, samples, mode='loss')
    assert {
        'decode.loss_mask_bce', 'decode.loss_dice', 'scr.loss_struct',
        'scr.loss_ground', 'scr.loss_affinity', 'scr.loss_prompt_struct',
        'scr.loss_mask_drift'
    } <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())


def test_each_stage_term_reads_its_stage():
    """The GPG term moves GPG's sparse branch, the GMS term the SAM head;
    CCR's term moves CCR (and the towers under it)."""
    inputs, samples = make_batch()
    for key, moved, unmoved in (
        ('scr.loss_struct', 'refiner.blocks.0.patch_to_word.q_proj.weight',
         'prompt_generator.queries.weight'),
        ('scr.loss_prompt_struct', 'prompt_generator.queries.weight',
         'decode_head.mask_decoder.mask_tokens.weight'),
        ('scr.loss_mask_drift', 'decode_head.mask_decoder.mask_tokens.weight',
         'prompt_generator.dense_conv.0.weight'),
    ):
        model = build()
        model.loss(inputs, samples)[key].backward()
        params = dict(model.named_parameters())
        assert params[moved].grad.abs().sum() > 0, key
        grad = params[unmoved].grad
        assert grad is None or grad.abs().sum() == 0, key


def test_gradients_reach_every_trainable_parameter():
    cfg = model_cfg()
    cfg.prompt_generator.update(use_points=True, use_box=True)
    cfg.decode_head.update(freeze_prompt_encoder=False)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    inputs, samples = make_batch()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-2)
    # Step once so that the zero-initialised FiLM and dense-prompt layers
    # move, then every trainable parameter must receive a non-zero gradient.
    for step in range(2):
        optimizer.zero_grad()
        sum(model.loss(inputs, samples).values()).backward()
        for name, param in model.named_parameters():
            if param.requires_grad:
                assert param.grad is not None, name
        optimizer.step()
    stuck = [
        name for name, param in model.named_parameters()
        if param.requires_grad and not param.grad.abs().sum() > 0
    ]
    # The prompt encoder's negative-point and mask-input embeddings are
    # unused by positive points, boxes and generated dense prompts.
    stuck = [n for n in stuck if not n.startswith('decode_head.prompt_enc')]
    assert stuck == []


@pytest.mark.slow
def test_loss_decreases_on_a_toy_batch():
    model = build()
    inputs, samples = make_batch()
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3)
    values = []
    for _ in range(8):
        optimizer.zero_grad()
        loss = sum(model.loss(inputs, samples).values())
        loss.backward()
        optimizer.step()
        values.append(loss.item())
    assert values[-1] < values[0]


def test_train_step_val_step_test_step():
    model = build()
    # Test-time images are resized to the network size; predictions go
    # back to each original shape.
    data = dict(inputs=[], data_samples=[])
    ori_shapes = [(96, 112), (160, 100)]
    for i, shape in enumerate(ori_shapes):
        data['inputs'].append(
            torch.randint(0, 256, (3, SIZE, SIZE), dtype=torch.uint8))
        sample = SegDataSample(
            metainfo=dict(
                text=TEXTS[i],
                text_parse=PARSES[TEXTS[i]],
                ori_shape=shape,
                img_shape=(SIZE, SIZE)))
        gt = torch.zeros(1, SIZE, SIZE, dtype=torch.long)
        gt[:, :40, :40] = 1
        sample.gt_sem_seg = PixelData(data=gt)
        data['data_samples'].append(sample)
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = model.refiner.cue_bias.detach().clone()
    log_vars = model.train_step(copy.deepcopy(data), optim_wrapper)
    assert 'loss' in log_vars and 'scr.loss_ground' in log_vars
    assert not torch.equal(before, model.refiner.cue_bias)
    model.eval()
    for step in (model.val_step, model.test_step):
        results = step(copy.deepcopy(data))
        for result, shape in zip(results, ori_shapes):
            pred = result.pred_sem_seg.data
            assert pred.shape == (1, ) + shape
            # the cue on the patch grid (128 px, patches of 8)
            assert result.pred_cue_logits.data.shape == (1, 16, 16)
            assert set(pred.unique().tolist()) <= {0, 1}
            probs = result.seg_logits.data
            assert torch.equal(pred, (probs
                                      > model.decode_head.threshold).to(pred))


def test_tensor_mode_and_text_errors():
    model = build()
    model.eval()
    inputs, samples = make_batch()
    with torch.no_grad():
        logits = model(inputs, samples, mode='tensor')
    embed = model.decode_head.image_embedding_size
    assert logits.shape == (2, 1, 4 * embed[0], 4 * embed[1])
    with pytest.raises(ValueError, match='text'):
        model(inputs, None, mode='tensor')
    samples[1] = SegDataSample(metainfo=dict(ori_shape=(SIZE, SIZE)))
    with pytest.raises(KeyError, match="data_samples\\[1\\].*'text'"):
        model(inputs, samples, mode='loss')


def test_ablation_switches_remove_stages():
    cfg = model_cfg()
    cfg.refiner.num_blocks = 0
    cfg.decode_head.use_grounding_adapters = False
    cfg.structural_loss.affinity_weight = 0
    model = build(
        refiner=cfg.refiner,
        decode_head=cfg.decode_head,
        structural_loss=cfg.structural_loss,
        prompt_generator=None)
    assert len(model.refiner.blocks) == 0
    assert model.prompt_generator is None
    assert len(model.decode_head.grounding_adapters) == 0
    inputs, samples = make_batch()
    losses = model.loss(inputs, samples)
    assert 'scr.loss_affinity' not in losses and 'scr.loss_ground' in losses
    # no CCR block: no cross-modal attention for the structure term
    assert 'scr.loss_struct' not in losses
    # Without GPG and GMS adapters nothing of the text reaches SAM.
    model.eval()
    with torch.no_grad():
        a = model(inputs, samples, mode='tensor')
        b = model(inputs, make_batch(texts=TEXTS[::-1])[1], mode='tensor')
    assert torch.equal(a, b)
    no_scr = build(structural_loss=None)
    assert no_scr.structural_loss is None
    assert not any(k.startswith('scr.') for k in no_scr.loss(*make_batch()))


def test_text_reaches_the_mask_with_all_stages():
    model = build()
    with torch.no_grad():
        for block in model.refiner.blocks:
            block.gates.fill_(0.5)
        model.prompt_generator.dense_conv[-1].weight.normal_(std=0.1)
    model.eval()
    inputs, samples = make_batch()
    with torch.no_grad():
        a = model(inputs, samples, mode='tensor')
        b = model(inputs, make_batch(texts=TEXTS[::-1])[1], mode='tensor')
    assert not torch.allclose(a, b)


def test_only_whole_inference():
    with pytest.raises(ValueError, match='test_cfg.mode'):
        build(test_cfg=dict(mode='slide'))


def test_train_step_pads_smaller_images():
    model = build()
    data = dict(
        inputs=[torch.randint(0, 256, (3, 96, 112), dtype=torch.uint8)],
        data_samples=[
            SegDataSample(
                metainfo=dict(
                    text=TEXTS[0],
                    text_parse=PARSES[TEXTS[0]],
                    ori_shape=(96, 112),
                    img_shape=(96, 112)),
                gt_sem_seg=PixelData(
                    data=torch.ones(1, 96, 112, dtype=torch.long)))
        ])
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log_vars = model.train_step(data, optim_wrapper)
    assert torch.isfinite(log_vars['loss'])


def test_init_weights_keeps_zero_init_and_frozen_stages():
    model = build()
    model.init_weights()
    assert all(torch.all(block.gates == 0.1) for block in model.refiner.blocks)
    assert torch.all(model.prompt_generator.dense_conv[-1].weight == 0)
    assert all(
        torch.all(a.film.weight == 0)
        for a in model.decode_head.grounding_adapters)
    # The tiny config keeps the text tower's embeddings fixed.
    assert not model.text_encoder.token_embedding.weight.requires_grad
    sum(model.loss(*make_batch()).values()).backward()
    assert model.text_encoder.token_embedding.weight.grad is None
    assert model.text_encoder.transformer.resblocks[0].mlp.c_fc.weight.grad \
        is not None


def test_the_landmark_map_reaches_the_landmark_term():
    model = build(
        refiner=dict(model_cfg().refiner, relation_prior=True),
        structural_loss=dict(model_cfg().structural_loss, landmark_weight=1.0))
    inputs, samples = make_batch(texts=[RELATION_TEXT])
    without = model(inputs, samples, mode='loss')['scr.loss_landmark']
    for sample in samples:
        landmark = torch.zeros(1, SIZE, SIZE, dtype=torch.long)
        landmark[:, 80:112, 80:112] = 1
        sample.gt_landmark_map = PixelData(data=landmark)
    with_map = model(inputs, samples, mode='loss')['scr.loss_landmark']
    assert torch.isfinite(with_map) and float(with_map) != float(without)
    del samples[0].gt_landmark_map
    with pytest.raises(
            ValueError, match='1 of 2 data samples have no '
            'gt_landmark_map'):
        model(inputs, samples, mode='loss')


def test_landmark_maps_are_padded_like_the_mask():
    sample = SegDataSample()
    sample.gt_landmark_map = PixelData(
        data=torch.ones(1, 96, 112, dtype=torch.long))
    maps = build().landmark_maps([sample], torch.zeros(1, 128, 128))
    assert maps.shape == (1, 128, 128)
    assert int(maps.sum()) == 96 * 112 and int(maps[0, :96, :112].sum()) \
        == 96 * 112
