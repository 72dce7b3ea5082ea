from .formatting import PackReferringInputs
from .image_loading import LoadRasterImage
from .landmark_map import LoadLandmarkMap
from .loading import LoadReferringMask
from .replace_expression import ReplaceExpression
from .text_flip import TextAwareRandomFlip, swap_direction_words

__all__ = [
    'LoadLandmarkMap', 'LoadRasterImage', 'LoadReferringMask',
    'PackReferringInputs', 'ReplaceExpression', 'TextAwareRandomFlip',
    'swap_direction_words'
]
