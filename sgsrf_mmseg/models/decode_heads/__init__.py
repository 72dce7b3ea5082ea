"""Decode heads of SGSRF."""
from .grounding_sam_head import GroundingSAMHead

__all__ = ['GroundingSAMHead']
