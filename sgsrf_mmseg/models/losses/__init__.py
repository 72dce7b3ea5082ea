from .mask_dice_loss import MaskDiceLoss, soft_dice_loss
from .structural_consistency_loss import StructuralConsistencyLoss

__all__ = ['MaskDiceLoss', 'StructuralConsistencyLoss', 'soft_dice_loss']
