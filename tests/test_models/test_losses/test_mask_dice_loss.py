import pytest
import torch
from mmseg.registry import MODELS

from sgsrf_mmseg.models.losses import MaskDiceLoss


def test_registered_and_ignores_pixels():
    loss = MODELS.build(dict(type='MaskDiceLoss', loss_weight=2.0))
    assert isinstance(loss, MaskDiceLoss) and loss.loss_name == 'loss_dice'
    target = torch.tensor([[[1, 0], [255, 1]]])
    perfect = torch.tensor([[[[20., -20.], [20., 20.]]]])
    assert loss(perfect, target).item() == pytest.approx(0, abs=1e-6)
    wrong = -perfect
    # the ignored pixel's logit does not matter
    flipped = wrong.clone()
    flipped[0, 0, 1, 0] = -20.
    assert loss(wrong,
                target).item() == pytest.approx(loss(flipped, target).item())
    assert loss(wrong, target).item() > 1.0
    with pytest.raises(ValueError, match='N, 1, H, W'):
        loss(torch.zeros(1, 2, 2, 2), target)
