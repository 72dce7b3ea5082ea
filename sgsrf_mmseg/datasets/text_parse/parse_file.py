"""Word-level dependency parses and the JSON files that hold them.

A parse (``text_parse``) is a dict of four lists of one entry per word:
``words``, ``spaces`` (a space follows the word), ``heads`` (absolute index
of the head word; a root is its own head) and ``deps`` (dependency labels,
spaCy's English label set). The words spell the text exactly:
``''.join(w + (' ' if s else '') for w, s in zip(words, spaces)) == text``.

A parse file (a dataset's parse cache or a gold file)::

    {"format": 1, "parser": "<parser identity or 'gold'>",
     "parses": {"<cleaned expression>": <parse>, ...}}
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

PARSE_FILE_FORMAT = 1
GOLD_PARSER = 'gold'
PARSE_FIELDS = ('words', 'spaces', 'heads', 'deps')
CACHE_SUFFIX = '.parses.json'


def parse_text(parse: dict) -> str:
    """The text a parse spells.

    Args:
        parse (dict): A parse with ``words`` and ``spaces``.

    Returns:
        str: ``''.join(w + (' ' if s else '') ...)``.
    """
    return ''.join(w + (' ' if s else '')
                   for w, s in zip(parse['words'], parse['spaces']))


def _parse_problem(parse: object, text: Optional[str]) -> Optional[str]:
    """What is wrong with a parse, or None."""
    if not isinstance(parse, dict):
        return f'a parse must be a dict, got {type(parse).__name__}'
    missing = [k for k in PARSE_FIELDS if not isinstance(parse.get(k), list)]
    if missing:
        return f'no list field(s) {missing}'
    num_words = len(parse['words'])
    if any(len(parse[k]) != num_words for k in PARSE_FIELDS):
        return ('words, spaces, heads and deps differ in length ('
                f'{[len(parse[k]) for k in PARSE_FIELDS]})')
    if not all(isinstance(w, str) and w for w in parse['words']):
        return 'words must be non-empty strings'
    if not all(isinstance(s, bool) for s in parse['spaces']):
        return 'spaces must be booleans'
    if not all(isinstance(d, str) for d in parse['deps']):
        return 'deps must be strings'
    if not all(
            isinstance(h, int) and not isinstance(h, bool)
            and 0 <= h < num_words for h in parse['heads']):
        return f'heads must be word indices in [0, {num_words})'
    if text is not None and parse_text(parse) != text:
        return f'its words spell {parse_text(parse)!r}, not the text'
    return None


def check_parse(parse: object,
                text: Optional[str] = None,
                source: str = 'text_parse') -> None:
    """Raise a ``ValueError`` naming ``source`` if a parse is malformed.

    Args:
        parse (object): The parse to check.
        text (str, optional): The text its words must spell. Defaults to
            None (not checked).
        source (str): Where the parse comes from, for the message.
            Defaults to 'text_parse'.
    """
    problem = _parse_problem(parse, text)
    if problem is not None:
        what = f'parse of {text!r}' if text is not None else 'parse'
        raise ValueError(f'{source}: {what}: {problem}')


def cache_file_for(ann_file: str) -> str:
    """The parse cache beside an annotation file.

    Args:
        ann_file (str): E.g. ``output_phrase_train.txt`` or
            ``rrsisd/refs(unc).p``.

    Returns:
        str: ``output_phrase_train.parses.json``,
        ``rrsisd/refs(unc).parses.json``.
    """
    return osp.splitext(ann_file)[0] + CACHE_SUFFIX


def read_parse_file(path: str) -> Tuple[str, Dict[str, dict]]:
    """Read and check a parse file.

    Args:
        path (str): The JSON file.

    Returns:
        tuple[str, dict[str, dict]]: The parser identity and the parses by
        text (each checked against its text).
    """
    try:
        with open(path, encoding='utf-8') as f:
            content = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path} is not a JSON parse file: {err}') from None
    if not isinstance(content, dict) or content.get(
            'format') != PARSE_FILE_FORMAT:
        found = content.get('format') if isinstance(content, dict) else None
        raise ValueError(f'{path} is not a parse file of format '
                         f'{PARSE_FILE_FORMAT} (format: {found!r})')
    parser, parses = content.get('parser'), content.get('parses')
    if not isinstance(parser, str) or not isinstance(parses, dict):
        raise ValueError(f'{path}: "parser" must be a string and "parses" '
                         'an object')
    for text, parse in parses.items():
        check_parse(parse, text, source=path)
    return parser, parses


def write_parse_file(path: str, parser: str, parses: Dict[str, dict]) -> None:
    """Write a parse file atomically (a reader never sees half a file).

    Args:
        path (str): The JSON file; its folder must exist.
        parser (str): The parser identity (``'gold'`` for gold trees).
        parses (dict[str, dict]): Parses by text.
    """
    for text, parse in parses.items():
        check_parse(parse, text, source=path)
    content = dict(
        format=PARSE_FILE_FORMAT, parser=parser, parses=dict(sorted(
            parses.items())))
    partial = f'{path}.{os.getpid()}.tmp'
    try:
        with open(partial, 'w', encoding='utf-8') as f:
            json.dump(content, f, ensure_ascii=False)
            f.write('\n')
        os.replace(partial, path)
    finally:
        if osp.exists(partial):
            os.remove(partial)
