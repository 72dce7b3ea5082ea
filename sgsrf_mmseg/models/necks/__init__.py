from .cross_modal_consistency_refiner import CrossModalConsistencyRefiner
from .grounding_prompt_generator import GroundingPromptGenerator

__all__ = ['CrossModalConsistencyRefiner', 'GroundingPromptGenerator']
