"""Dice loss of a one-channel binary mask with ignored pixels."""
from typing import Optional

import torch
import torch.nn as nn
from mmseg.registry import MODELS


def soft_dice_loss(prob: torch.Tensor,
                   target: torch.Tensor,
                   valid: Optional[torch.Tensor] = None,
                   eps: float = 1.0) -> torch.Tensor:
    """Soft Dice loss per image: ``1 - (2 sum(p t) + eps) / (sum(p) +
    sum(t) + eps)`` over the valid pixels.

    Args:
        prob (Tensor): Probabilities ``(B, ...)``.
        target (Tensor): Targets in [0, 1], same shape.
        valid (Tensor, optional): 1 where a pixel counts, same shape.
            Defaults to None (all).
        eps (float): Smoothing; an image with no target and no prediction
            scores 0. Defaults to 1.

    Returns:
        Tensor: ``(B,)`` losses.
    """
    prob, target = prob.flatten(1), target.flatten(1)
    if valid is not None:
        valid = valid.flatten(1)
        prob, target = prob * valid, target * valid
    inter = (prob * target).sum(1)
    return 1 - (2 * inter + eps) / (prob.sum(1) + target.sum(1) + eps)


@MODELS.register_module()
class MaskDiceLoss(nn.Module):
    """Dice loss for ``out_channels=1`` logits against a 0/1/ignore label.

    mmseg 1.2.2's ``DiceLoss`` does not fit a one-channel binary head: it
    one-hot encodes the (N, H, W) label over ``pred.shape[1] = 1`` class,
    which scores the prediction against *background* (label 0), and its
    ``ignore_index`` drops a class channel, not pixels. Here
    :func:`soft_dice_loss` of ``p = sigmoid(logit)`` over the pixels whose
    label is not ``ignore_index``, averaged over the images.

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
        loss = soft_dice_loss(pred.float().sigmoid()[:,
                                                     0], (target == 1).float(),
                              (target != ignore).float(), self.eps)
        return self.loss_weight * loss.mean()

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name
