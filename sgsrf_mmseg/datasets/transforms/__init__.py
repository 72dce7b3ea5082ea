from .formatting import PackReferringInputs
from .loading import LoadReferringMask
from .text_flip import TextAwareRandomFlip, swap_direction_words

__all__ = [
    'LoadReferringMask', 'PackReferringInputs', 'TextAwareRandomFlip',
    'swap_direction_words'
]
