"""Random flip that keeps spatial words of the expression true."""
import re
from bisect import bisect_right
from itertools import accumulate
from typing import Dict

import mmcv
from mmcv.transforms import RandomFlip
from mmseg.registry import TRANSFORMS

from ...utils.dependency_parse import DependencyParse

HORIZONTAL_PAIRS = (('left', 'right'), ('leftmost', 'rightmost'),
                    ('west', 'east'), ('western', 'eastern'), ('westernmost',
                                                               'easternmost'),
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
    horizontal=_pair_map(HORIZONTAL_PAIRS), vertical=_pair_map(VERTICAL_PAIRS))
_WORD_MAPS['diagonal'] = {
    w:
    _WORD_MAPS['vertical'].get(_WORD_MAPS['horizontal'].get(w, w),
                               _WORD_MAPS['horizontal'].get(w, w))
    for w in set(_WORD_MAPS['horizontal']) | set(_WORD_MAPS['vertical'])
}
_PATTERNS = {
    direction:
    re.compile(
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
    return _PATTERNS[direction].sub(lambda m: _swapped(m.group(0), direction),
                                    text)


def _swapped(word: str, direction: str) -> str:
    """The direction word replacing ``word``, in its case."""
    return _match_case(_WORD_MAPS[direction][word.lower()], word)


def swap_parse_direction_words(parse: DependencyParse,
                               direction: str) -> DependencyParse:
    """Swap the direction words of a parse's words, as in its text.

    The words are changed exactly where :func:`swap_direction_words`
    changes the text they spell, so the parse keeps spelling the flipped
    text; spaces, heads and labels are kept.

    Args:
        parse (DependencyParse): A parse.
        direction (str): ``'horizontal'``, ``'vertical'`` or ``'diagonal'``.

    Returns:
        DependencyParse: A new parse with the swapped words.
    """
    words = list(parse.words)
    text = parse.text
    lengths = [len(w) + s for w, s in zip(words, parse.spaces)]
    starts = [0, *accumulate(lengths)][:-1]
    for match in reversed(list(_PATTERNS[direction].finditer(text))):
        index = bisect_right(starts, match.start()) - 1
        begin = match.start() - starts[index]
        end = match.end() - starts[index]
        if end > len(words[index]):
            raise ValueError(f'text_parse of {text!r}: the direction word '
                             f'{match.group(0)!r} spans several words '
                             f'{words[index:index + 2]}')
        words[index] = (
            words[index][:begin] + _swapped(match.group(0), direction) +
            words[index][end:])
    return parse.with_words(words)


@TRANSFORMS.register_module()
class TextAwareRandomFlip(RandomFlip):
    """:class:`mmcv.transforms.RandomFlip` that also flips the expression.

    When the image is flipped, ``results['text']`` gets its spatial words
    swapped by :func:`swap_direction_words`, so "the car on the left" stays
    true of the flipped image and mask; the words of
    ``results['text_parse']``, when present, are swapped the same way
    (:func:`swap_parse_direction_words`), so they keep spelling the text.
    Arguments are those of :class:`RandomFlip` (``prob``, ``direction``,
    ``swap_seg_labels``).

    The other maps of ``seg_fields`` (e.g. ``gt_landmark_map``) are
    flipped with the mask.

    Modified Keys: ``img``, ``gt_seg_map`` and the other ``seg_fields``,
    ``text``, ``text_parse``; Added Keys: ``flip``, ``flip_direction``.
    """

    def _flip(self, results: dict) -> None:
        """Flip the image and maps, then the spatial words of the text."""
        super()._flip(results)
        direction = results['flip_direction']
        for key in results.get('seg_fields', []):
            if key != 'gt_seg_map':
                results[key] = mmcv.imflip(results[key], direction=direction)
        if isinstance(results.get('text'), str):
            results['text'] = swap_direction_words(results['text'], direction)
        if results.get('text_parse') is not None:
            parse = swap_parse_direction_words(results['text_parse'],
                                               direction)
            results['text_parse'] = DependencyParse.from_dict(
                parse, results.get('text'), source='text_parse')
