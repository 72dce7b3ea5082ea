from .mask_dice_loss import MaskDiceLoss
from .structural_consistency_loss import StructuralConsistencyLoss

__all__ = ['MaskDiceLoss', 'StructuralConsistencyLoss']
