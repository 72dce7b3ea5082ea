import sgsrf_mmseg  # noqa: F401,I001
import pytest
import torch

from mmseg.registry import MODELS

B, D, L, H, W = 2, 8, 4, 4, 4
IMG = 16  # 4x4 pixels per cell


def make_ccr_out(requires_grad=False):
    torch.manual_seed(0)
    pad_mask = torch.zeros(B, L, dtype=torch.bool)
    pad_mask[1, 3:] = True
    out = dict(
        visual=torch.randn(B, D, H, W),
        words=torch.randn(B, L, D),
        word_attn=torch.rand(B, L, H * W).softmax(-1),
        cue_logits=torch.randn(B, 1, H, W),
        pad_mask=pad_mask)
    if requires_grad:
        for key in ('visual', 'words', 'word_attn', 'cue_logits'):
            out[key].requires_grad_(True)
    return out


def make_gt():
    gt = torch.zeros(B, IMG, IMG, dtype=torch.long)
    gt[:, :8, :8] = 1
    return gt


def build(**kwargs):
    return MODELS.build(dict(type='StructuralConsistencyLoss', **kwargs))


def test_keys_and_weights():
    losses = build()(make_ccr_out(), make_gt())
    assert set(losses) == {'loss_struct', 'loss_ground', 'loss_affinity'}
    assert all(torch.isfinite(v) and v.ndim == 0 for v in losses.values())
    half = build(struct_weight=0.5, ground_weight=0.5,
                 affinity_weight=0.5)(make_ccr_out(), make_gt())
    for key in losses:
        assert torch.allclose(half[key], losses[key] / 2)
    for key in losses:
        name = key.split('_', 1)[1]
        weights = dict(struct_weight=1, ground_weight=1, affinity_weight=1)
        weights[f'{name}_weight'] = 0
        assert set(build(**weights)(make_ccr_out(), make_gt())) == \
            set(losses) - {key}


def test_struct_matches_adjacency_and_stops_language_gradient():
    loss = build(ground_weight=0, affinity_weight=0)
    ccr_out = make_ccr_out(requires_grad=True)
    value = loss(ccr_out, make_gt())['loss_struct']
    value.backward()
    assert ccr_out['word_attn'].grad.abs().sum() > 0
    assert ccr_out['words'].grad is None
    # Attention maps that are one-hot on distinct patches are orthogonal:
    # they match an identity adjacency exactly.
    attn = torch.zeros(B, L, H * W)
    attn[:, torch.arange(L), torch.arange(L)] = 1
    ccr_out = make_ccr_out()
    ccr_out['word_attn'] = attn
    adjacency = torch.eye(L).expand(B, L, L)
    assert loss(ccr_out, make_gt(), adjacency)['loss_struct'] == 0
    assert loss(ccr_out, make_gt(), torch.ones(B, L, L))['loss_struct'] > 0
    with pytest.raises(ValueError, match='adjacency'):
        loss(ccr_out, make_gt(), torch.eye(L + 1).expand(B, -1, -1))


def test_struct_ignores_padded_words():
    loss = build(ground_weight=0, affinity_weight=0)
    ccr_out = make_ccr_out()
    value = loss(ccr_out, make_gt())['loss_struct']
    ccr_out['words'][1, 3:] = torch.randn(1, D)
    assert torch.allclose(loss(ccr_out, make_gt())['loss_struct'], value)


def test_ground_targets_and_ignore():
    loss = build(struct_weight=0, affinity_weight=0)
    gt = torch.zeros(1, IMG, IMG, dtype=torch.long)
    gt[0, :4, :2] = 1  # half of cell (0, 0): positive
    gt[0, :4, 4:5] = 1  # a quarter of cell (0, 1): negative
    gt[0, 12:, 12:15] = 255  # most of cell (3, 3): ignored
    target, valid = loss.cell_targets(gt, (H, W))
    assert target[0, 0, 0] == 1 and target.sum() == 1
    assert valid[0, 3, 3] == 0 and valid.sum() == H * W - 1
    soft = build(soft_ground_target=True).cell_targets(gt, (H, W))[0]
    assert torch.isclose(soft[0, 0, 1], torch.tensor(0.25))
    ccr_out = make_ccr_out()
    ccr_out['cue_logits'] = (target[:, None] * 2 - 1) * 20
    perfect = loss(
        {k: v[:1]
         for k, v in ccr_out.items()}, gt)['loss_ground']
    assert perfect < 1e-3
    ccr_out['cue_logits'][0, 0, 3, 3] = 99.0
    assert torch.allclose(
        loss({k: v[:1]
              for k, v in ccr_out.items()}, gt)['loss_ground'], perfect)


def test_affinity_partition():
    loss = build(struct_weight=0, ground_weight=0)
    gt = make_gt()
    target, _ = loss.cell_targets(gt, (H, W))
    visual = torch.zeros(B, D, H, W)
    visual[:, 0] = target
    visual[:, 1] = 1 - target
    ccr_out = make_ccr_out()
    ccr_out['visual'] = visual
    assert loss(ccr_out, gt)['loss_affinity'] < 1e-6
    assert build(struct_weight=0, ground_weight=0)(
        make_ccr_out(), gt)['loss_affinity'] > 0.1


def test_affinity_sampling_keeps_gradient():
    loss = build(struct_weight=0, ground_weight=0, affinity_samples=6)
    ccr_out = make_ccr_out(requires_grad=True)
    value = loss(ccr_out, make_gt())['loss_affinity']
    value.backward()
    assert torch.isfinite(value)
    assert ccr_out['visual'].grad.abs().sum() > 0


@pytest.mark.parametrize('fill', [0, 255])
def test_empty_or_ignored_mask_is_finite(fill):
    loss = build(affinity_samples=6)
    ccr_out = make_ccr_out(requires_grad=True)
    gt = torch.full((B, IMG, IMG), fill, dtype=torch.long)
    losses = loss(ccr_out, gt)
    total = sum(losses.values())
    total.backward()
    assert torch.isfinite(total)
    for key in ('visual', 'cue_logits', 'word_attn'):
        assert torch.isfinite(ccr_out[key].grad).all()


def test_half_precision_inputs():
    ccr_out = {
        k: v.half() if v.is_floating_point() else v
        for k, v in make_ccr_out().items()
    }
    losses = build()(ccr_out, make_gt())
    assert all(v.dtype == torch.float32 for v in losses.values())
    reference = build()(make_ccr_out(), make_gt())
    for key, value in losses.items():
        assert torch.allclose(value, reference[key], atol=5e-2)
