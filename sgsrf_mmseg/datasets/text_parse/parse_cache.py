"""A parse cache: every expression parsed once per parser, kept on disk."""
import fcntl
import logging
import os
import os.path as osp
from typing import Dict, Iterable

from mmengine.logging import print_log

from ...utils.folder_lock import open_lock_file
from .parse_file import GOLD_PARSER, read_parse_file, write_parse_file
from .spacy_pipeline import load_spacy_pipeline, parse_texts, pipeline_identity

WRITE_HINT = ('put the cache in a writable place with '
              "text_parser=dict(..., cache_file='PATH') in the dataset "
              'config, or --cache-file PATH with '
              'tools/misc/parse_expressions.py')

TEXT_PARSER_KEYS = ('model', 'cache_file', 'train_from')


def check_text_parser_config(text_parser: object) -> None:
    """Raise a ``ValueError`` if a dataset's ``text_parser`` is malformed.

    Args:
        text_parser (object): None, or ``dict(model=..., cache_file=...,
            train_from=...)`` with ``cache_file`` and ``train_from`` (gold
            parse files to train the pipeline folder ``model`` from)
            optional.
    """
    if text_parser is None:
        return
    if not isinstance(text_parser, dict) or not isinstance(
            text_parser.get('model'),
            str) or set(text_parser) - set(TEXT_PARSER_KEYS):
        raise ValueError(
            "text_parser must be dict(model='en_core_web_sm' or a pipeline "
            f'folder[, cache_file=PATH][, train_from=[GOLD_FILES]]), got '
            f'{text_parser!r}')


def _cached_parses(cache_file: str, identity: str) -> Dict[str, dict]:
    """Parses of ``cache_file`` written by ``identity`` (else none)."""
    if not osp.isfile(cache_file):
        return {}
    parser, parses = read_parse_file(cache_file)
    if parser == GOLD_PARSER:
        raise ValueError(f'{cache_file} holds gold parses, which a parse '
                         f'cache never overwrites: {WRITE_HINT}')
    if parser != identity:
        print_log(
            f'{cache_file} holds parses by {parser}; the expressions are '
            f'parsed again with {identity}',
            logger='current',
            level=logging.WARNING)
        return {}
    return parses


def _parse_missing(texts: Iterable[str], model: str, identity: str,
                   cache_file: str, batch_size: int) -> Dict[str, dict]:
    """Parse what the cache lacks and add it, holding the cache's lock.

    Concurrent processes (distributed ranks) wait for the one parsing, then
    find its parses in the cache.
    """
    try:
        os.makedirs(osp.dirname(osp.abspath(cache_file)), exist_ok=True)
        lock = open_lock_file(cache_file + '.lock')
    except OSError as err:
        raise OSError(f'cannot write the parse cache {cache_file} '
                      f'({err.strerror or err}): {WRITE_HINT}') from err
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _cached_parses(cache_file, identity)
        missing = [t for t in texts if t not in cached]
        if missing:
            new = parse_texts(
                load_spacy_pipeline(model),
                missing,
                batch_size=batch_size,
                desc=f'parsing expressions with {identity}')
            cached.update(zip(missing, new))
            try:
                write_parse_file(cache_file, identity, cached)
            except OSError as err:
                raise OSError(f'cannot write the parse cache {cache_file} '
                              f'({err.strerror or err}): '
                              f'{WRITE_HINT}') from err
        print_log(
            f'{cache_file}: parsed {len(missing)} expression(s) with '
            f'{identity}',
            logger='current')
    return cached


def ensure_parses(texts: Iterable[str],
                  model: str,
                  cache_file: str,
                  batch_size: int = 256) -> Dict[str, dict]:
    """Parses of ``texts``, from the cache or parsed and added to it.

    The cache is keyed by text and tagged with the parser identity
    (:func:`pipeline_identity`, a digest of the parser's files, not its
    name): an edited expression is not found and is parsed, the others are
    reused; a cache written by another parser (or by the same folder's
    pipeline before it was retrained) is parsed again as a whole and
    replaced. A complete cache is only read
    (it may sit in a read-only folder, and spaCy is not needed).

    Args:
        texts (Iterable[str]): The expressions (cleaned, as samples carry
            them).
        model (str): A spaCy pipeline package name or folder.
        cache_file (str): The parse file (see :mod:`.parse_file`).
        batch_size (int): Texts per ``nlp.pipe`` batch. Defaults to 256.

    Returns:
        dict[str, dict]: The parse of every text (and of the other texts in
        the cache).
    """
    texts = sorted(set(texts))
    identity = pipeline_identity(model)
    cached = _cached_parses(cache_file, identity)
    if all(t in cached for t in texts):
        return cached
    return _parse_missing(texts, model, identity, cache_file, batch_size)
