"""Decode heads of SGSRF."""
from .grounding_sam_head import GroundingSAMHead
from .mask_dice_loss import MaskDiceLoss

__all__ = ['GroundingSAMHead', 'MaskDiceLoss']
