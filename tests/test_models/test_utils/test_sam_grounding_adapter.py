import torch

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.utils.grounding_adapter import GroundingAdapter


def test_zero_init_is_identity_and_trainable():
    adapter = GroundingAdapter(embed_dims=8, cue_channels=4)
    x = torch.randn(2, 5, 5, 8, requires_grad=True)
    sentence = torch.randn(2, 4)
    cue = torch.randn(2, 1, 10, 10)
    out = adapter(x, sentence, cue)
    assert torch.equal(out, x)
    out.square().sum().backward()
    assert adapter.film.weight.grad.abs().sum() > 0
    assert adapter.gate_scale.grad is not None


def test_modulation_is_stressed_by_the_cue_never_erased():
    adapter = GroundingAdapter(embed_dims=8, cue_channels=4)
    with torch.no_grad():
        adapter.film.bias[8:] = 1.0  # beta = 1, gamma = 0
    x = torch.randn(1, 4, 4, 8)
    cue = torch.full((1, 1, 4, 4), -30.0)
    cue[..., 0, 0] = 30.0
    delta = adapter(x, torch.randn(1, 4), cue) - x
    # twice the modulation where the cue is on, the plain one elsewhere
    torch.testing.assert_close(delta[0, 0, 0], torch.full((8, ), 2.0))
    torch.testing.assert_close(delta[0, 1:], torch.ones(3, 4, 8))
