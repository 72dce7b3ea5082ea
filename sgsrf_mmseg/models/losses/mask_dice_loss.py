"""Dice loss of a one-channel binary mask with ignored pixels."""
from typing import Optional

import torch
import torch.nn as nn
from mmseg.registry import MODELS


@MODELS.register_module()
class MaskDiceLoss(nn.Module):
    """Dice loss for ``out_channels=1`` logits against a 0/1/ignore label.

    mmseg 1.2.2's ``DiceLoss`` does not fit a one-channel binary head: it
    one-hot encodes the (N, H, W) label over ``pred.shape[1] = 1`` class,
    which scores the prediction against *background* (label 0), and its
    ``ignore_index`` drops a class channel, not pixels. Here, per image,
    ``1 - (2 * sum(p * t) + eps) / (sum(p) + sum(t) + eps)`` with
    ``p = sigmoid(logit)`` over the pixels whose label is not
    ``ignore_index``, averaged over the images.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        eps (float): Smoothing term; an image with no target and no
            prediction scores 0. Defaults to 1.0.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        loss_name (str): Name of the loss item (must start with ``loss_``
            to be back-propagated). Defaults to 'loss_dice'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 eps: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps
        self.ignore_index = ignore_index
        self._loss_name = loss_name

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Logits (N, 1, H, W).
            target (Tensor): Labels (N, H, W) in {0, 1, ignore_index}.
            ignore_index (int, optional): Overrides ``self.ignore_index``.
                Defaults to None.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if pred.ndim != 4 or pred.shape[1] != 1:
            raise ValueError(f'{type(self).__name__} expects (N, 1, H, W) '
                             f'logits, got {tuple(pred.shape)}')
        ignore = self.ignore_index if ignore_index is None else ignore_index
        valid = (target != ignore).flatten(1).float()
        prob = pred.float().sigmoid().flatten(1) * valid
        label = (target == 1).flatten(1).float() * valid
        inter = (prob * label).sum(1)
        dice = (2 * inter + self.eps) / (
            prob.sum(1) + label.sum(1) + self.eps)
        return self.loss_weight * (1 - dice).mean()

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name
