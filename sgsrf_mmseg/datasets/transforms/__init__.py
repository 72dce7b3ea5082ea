from .formatting import PackReferringInputs
from .image_loading import LoadRasterImage
from .loading import LoadReferringMask
from .replace_expression import ReplaceExpression
from .text_flip import TextAwareRandomFlip, swap_direction_words

__all__ = [
    'LoadRasterImage', 'LoadReferringMask', 'PackReferringInputs',
    'ReplaceExpression', 'TextAwareRandomFlip', 'swap_direction_words'
]
