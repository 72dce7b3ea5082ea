"""The two rules for referring expressions: user input and dataset text.

:func:`clean_expression` (strict) is applied to every expression a user
gives, by the Python API and the command line alike;
:func:`clean_dataset_expression` (lenient) applies the same cleaning to the
expressions of an annotation file, so that training and inference see the
same text, but returns ``''`` where the strict rule raises, so that the
dataset can skip the expression and report it.

The strict rule:

1. Type: the expression must be a ``str``; anything else (``None``, bytes,
   numbers) is a ``TypeError`` naming the field.
2. White space: every run of white space (spaces, tabs, newlines and the
   Unicode line and paragraph separators) becomes one space, and the text is
   stripped at both ends.
3. Invisible characters: the remaining control, format and surrogate
   characters (Unicode categories Cc, Cf and Cs, e.g. ``\\x00``, ``\\x1b``,
   zero-width spaces, byte-order marks, unpaired surrogates) are removed.
4. Empty: an expression with nothing left is a ``ValueError`` naming the
   field, since there is nothing to ground.
5. Length: a user's expression of more than :data:`MAX_EXPRESSION_CHARS`
   characters is a ``ValueError`` before anything else is done with it (the
   text tower reads 77 tokens, a few hundred characters; a longer text
   only costs time, e.g. drawing it on the overlay). Dataset expressions
   are not limited: those longer than the text tower's context are cut by
   the tower, which logs a warning naming them.

Everything else is kept as written, including non-ASCII letters (the BPE
tokenizer of the text tower reads Unicode after an ``ftfy`` clean-up) and
case.
"""
import unicodedata
from typing import Optional

_REMOVED_CATEGORIES = ('Cc', 'Cf', 'Cs')
#: Longest expression a user may give, in characters (rule 5).
MAX_EXPRESSION_CHARS = 1000


def clean_expression(text: str,
                     field: str = 'expression',
                     max_chars: Optional[int] = MAX_EXPRESSION_CHARS) -> str:
    """Check and clean one referring expression.

    Args:
        text (str): The expression.
        field (str): Name of the field in error messages.
            Defaults to 'expression'.
        max_chars (int, optional): Longest expression allowed, in
            characters; None for no limit. Defaults to
            :data:`MAX_EXPRESSION_CHARS`.

    Returns:
        str: The cleaned, non-empty expression.
    """
    if not isinstance(text, str):
        raise TypeError(f'{field} must be a str (the referring expression), '
                        f'got {type(text).__name__}: {text!r:.80}')
    if max_chars is not None and len(text) > max_chars:
        raise ValueError(f'{field} is {len(text):,} characters long, over '
                         f'the limit of {max_chars:,} (the text tower reads '
                         'the first 77 tokens): shorten it')
    kept = ''.join(
        ch for ch in text
        if ch.isspace() or unicodedata.category(ch) not in _REMOVED_CATEGORIES)
    cleaned = ' '.join(kept.split())
    if not cleaned:
        raise ValueError(f'{field} is empty after removing white space and '
                         f'control characters (got {text!r:.80}): there is '
                         'nothing to ground')
    return cleaned


def clean_dataset_expression(text: object) -> str:
    """Clean an annotation file's expression by the same rule, leniently.

    Args:
        text (object): The raw expression (anything a file may hold).

    Returns:
        str: The cleaned expression; ``''`` when ``text`` is not a ``str``
        or nothing is left, for the dataset to skip and report.
    """
    if not isinstance(text, str):
        return ''
    try:
        return clean_expression(text, max_chars=None)
    except ValueError:
        return ''
