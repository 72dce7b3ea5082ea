import pytest
import torch
from segment_anything.modeling import MaskDecoder, TwoWayTransformer

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.sam.batched_decoder import BatchedMaskDecoder


def _decoders():
    torch.manual_seed(0)
    kwargs = dict(transformer_dim=32, iou_head_hidden_dim=32)
    original = MaskDecoder(
        transformer=TwoWayTransformer(
            depth=2, embedding_dim=32, num_heads=4, mlp_dim=64),
        **kwargs)
    batched = BatchedMaskDecoder(
        transformer=TwoWayTransformer(
            depth=2, embedding_dim=32, num_heads=4, mlp_dim=64),
        **kwargs)
    batched.load_state_dict(original.state_dict())
    return original.eval(), batched.eval()


@pytest.mark.parametrize('num_sparse', [0, 1, 3])
@pytest.mark.parametrize('multimask', [False, True])
def test_batched_equals_single_image_calls(num_sparse, multimask):
    original, batched = _decoders()
    b = 3
    emb = torch.randn(b, 32, 6, 5)
    pe = torch.randn(1, 32, 6, 5)
    sparse = torch.randn(b, num_sparse, 32)
    dense = torch.randn(b, 32, 6, 5)
    masks, iou = batched(emb, pe, sparse, dense, multimask)
    assert masks.shape == (b, 3 if multimask else 1, 24, 20)
    for i in range(b):
        ref_masks, ref_iou = original(emb[i:i + 1], pe, sparse[i:i + 1],
                                      dense[i:i + 1], multimask)
        torch.testing.assert_close(
            masks[i:i + 1], ref_masks, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(iou[i:i + 1], ref_iou, rtol=1e-5, atol=1e-5)


def test_original_decoder_fails_on_image_batch():
    original, batched = _decoders()
    args = (torch.randn(2, 32, 4, 4), torch.randn(1, 32, 4, 4),
            torch.randn(2, 1, 32), torch.randn(2, 32, 4, 4), False)
    with pytest.raises(RuntimeError):
        original(*args)
    assert batched(*args)[0].shape == (2, 1, 16, 16)


def test_broadcast_dense_and_bad_batch():
    _, batched = _decoders()
    emb = torch.randn(2, 32, 4, 4)
    pe = torch.randn(1, 32, 4, 4)
    dense = torch.randn(1, 32, 4, 4)
    masks, _ = batched(emb, pe, torch.randn(2, 0, 32), dense, False)
    assert masks.shape == (2, 1, 16, 16)
    with pytest.raises(ValueError, match='sparse prompts for 3 images'):
        batched(emb, pe, torch.randn(3, 1, 32), dense, False)
