"""Decode heads of SGSRF."""
from .grounding_sam_head import GroundingSAMHead
from .sam_feature_head import SAMFeatureHead

__all__ = ['GroundingSAMHead', 'SAMFeatureHead']
