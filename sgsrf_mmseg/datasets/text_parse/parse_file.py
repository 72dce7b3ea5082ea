"""The JSON files that hold dependency parses (caches and gold trees).

A parse file::

    {"format": 1, "parser": "<parser identity or 'gold'>",
     "parses": {"<cleaned expression>": <parse>, ...}}

with each parse in the form of :meth:`DependencyParse.to_dict` (four lists
of one entry per word: ``words``, ``spaces``, ``heads``, ``deps``), whose
words spell the expression exactly.
"""
import json
import os.path as osp
from typing import Dict, Tuple

from ...utils.atomic_file import write_text_atomic
from ...utils.dependency_parse import DependencyParse
from ...utils.json_file import read_json

PARSE_FILE_FORMAT = 1
GOLD_PARSER = 'gold'
CACHE_SUFFIX = '.parses.json'


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


def read_parse_file(path: str) -> Tuple[str, Dict[str, DependencyParse]]:
    """Read and check a parse file.

    Args:
        path (str): The JSON file.

    Returns:
        tuple[str, dict[str, DependencyParse]]: The parser identity and the
        parses by text (each checked against its text).
    """
    content = read_json(path, 'parse file')
    if not isinstance(content,
                      dict) or content.get('format') != PARSE_FILE_FORMAT:
        found = content.get('format') if isinstance(content, dict) else None
        raise ValueError(f'{path} is not a parse file of format '
                         f'{PARSE_FILE_FORMAT} (format: {found!r}); a parse '
                         'cache can be deleted (its expressions are parsed '
                         'again), gold parses must be regenerated')
    parser, parses = content.get('parser'), content.get('parses')
    if not isinstance(parser, str) or not isinstance(parses, dict):
        raise ValueError(f'{path}: "parser" must be a string and "parses" '
                         'an object')
    return parser, {
        text: DependencyParse.from_dict(parse, text, source=path)
        for text, parse in parses.items()
    }


def write_parse_file(path: str, parser: str,
                     parses: Dict[str, DependencyParse]) -> None:
    """Write a parse file atomically (a reader never sees half a file).

    Args:
        path (str): The JSON file; its folder must exist.
        parser (str): The parser identity (``'gold'`` for gold trees).
        parses (dict[str, DependencyParse]): Parses by text (or their
            dict forms).
    """
    content = dict(
        format=PARSE_FILE_FORMAT,
        parser=parser,
        parses={
            text: DependencyParse.from_dict(parse, text,
                                            source=path).to_dict()
            for text, parse in sorted(parses.items())
        })
    write_text_atomic(path, json.dumps(content, ensure_ascii=False) + '\n')
