"""Random flip that keeps spatial words of the expression true."""
import re
from typing import Dict

from mmcv.transforms import RandomFlip
from mmseg.registry import TRANSFORMS

HORIZONTAL_PAIRS = (('left', 'right'), ('leftmost', 'rightmost'),
                    ('west', 'east'), ('western', 'eastern'),
                    ('westernmost', 'easternmost'),
                    ('northwest', 'northeast'), ('southwest', 'southeast'))
VERTICAL_PAIRS = (('top', 'bottom'), ('topmost', 'bottommost'),
                  ('upper', 'lower'), ('uppermost', 'lowermost'),
                  ('above', 'below'), ('north', 'south'),
                  ('northern', 'southern'), ('northernmost', 'southernmost'),
                  ('northwest', 'southwest'), ('northeast', 'southeast'))


def _pair_map(pairs) -> Dict[str, str]:
    mapping = dict()
    for a, b in pairs:
        mapping[a], mapping[b] = b, a
    return mapping


_WORD_MAPS = dict(
    horizontal=_pair_map(HORIZONTAL_PAIRS),
    vertical=_pair_map(VERTICAL_PAIRS))
_WORD_MAPS['diagonal'] = {
    w: _WORD_MAPS['vertical'].get(_WORD_MAPS['horizontal'].get(w, w),
                                  _WORD_MAPS['horizontal'].get(w, w))
    for w in set(_WORD_MAPS['horizontal']) | set(_WORD_MAPS['vertical'])
}
_PATTERNS = {
    direction: re.compile(
        r'\b(' + '|'.join(sorted(mapping, key=len, reverse=True)) + r')\b',
        re.IGNORECASE)
    for direction, mapping in _WORD_MAPS.items()
}


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[0].isupper():
        return word[0].upper() + word[1:]
    return word


def swap_direction_words(text: str, direction: str) -> str:
    """Swap spatial words of ``text`` for an image flipped in ``direction``.

    Whole words only, case preserved. Horizontal: left/right,
    leftmost/rightmost, west/east (and western/eastern, -most,
    northwest/northeast, southwest/southeast). Vertical: top/bottom,
    topmost/bottommost, upper/lower, uppermost/lowermost, above/below,
    north/south (and northern/southern, -most, northwest/southwest,
    northeast/southeast). Diagonal: both.

    Args:
        text (str): The expression.
        direction (str): ``'horizontal'``, ``'vertical'`` or ``'diagonal'``.

    Returns:
        str: The expression for the flipped image.
    """
    mapping = _WORD_MAPS[direction]
    return _PATTERNS[direction].sub(
        lambda m: _match_case(mapping[m.group(0).lower()], m.group(0)), text)


@TRANSFORMS.register_module()
class TextAwareRandomFlip(RandomFlip):
    """:class:`mmcv.transforms.RandomFlip` that also flips the expression.

    When the image is flipped, ``results['text']`` gets its spatial words
    swapped by :func:`swap_direction_words`, so "the car on the left" stays
    true of the flipped image and mask. Arguments are those of
    :class:`RandomFlip` (``prob``, ``direction``, ``swap_seg_labels``).

    Modified Keys: ``img``, ``gt_seg_map``, ``text``; Added Keys: ``flip``,
    ``flip_direction``.
    """

    def _flip(self, results: dict) -> None:
        """Flip the image and mask, then the spatial words of the text."""
        super()._flip(results)
        if isinstance(results.get('text'), str):
            results['text'] = swap_direction_words(results['text'],
                                                   results['flip_direction'])
