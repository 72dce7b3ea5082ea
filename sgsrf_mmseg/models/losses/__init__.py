from .structural_consistency_loss import StructuralConsistencyLoss

__all__ = ['StructuralConsistencyLoss']
