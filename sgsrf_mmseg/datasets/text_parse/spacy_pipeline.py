"""spaCy dependency parsers: loading, identity, parsing expressions.

spaCy is optional: it is imported only when expressions must be parsed or a
parser trained. A pipeline is named as ``spacy.load`` takes it: the name of
an installed pipeline package (``'en_core_web_sm'``) or the folder of a
saved pipeline (one written by :func:`train_dependency_parser`, or by
``nlp.to_disk``).
"""
import hashlib
import importlib.metadata
import os
import os.path as osp
from typing import Iterable, List, Sequence

from ...utils.dependency_parse import DependencyParse
from ...utils.json_file import read_json

PARSER_FACTORIES = ('parser', 'beam_parser')
INSTALL_HINT = ('pip install spacy, then python -m spacy download '
                'en_core_web_sm (or train one offline from gold parses with '
                'tools/misc/train_parser.py)')


def import_spacy():
    """Import spaCy, or explain how to install it.

    Returns:
        module: The ``spacy`` module.
    """
    try:
        import spacy
    except ImportError as err:
        raise ImportError('dependency parses of the expressions need spaCy, '
                          f'which is not installed ({err}): '
                          f'{INSTALL_HINT}') from err
    return spacy


def is_pipeline_path(model: str) -> bool:
    """Whether ``model`` names a folder rather than an installed package."""
    return (osp.exists(model) or model.startswith(('.', '~'))
            or osp.sep in model or '/' in model)


def _files_digest(root: str, paths: Iterable[str]) -> str:
    """Short SHA-256 of the named files under ``root`` (names and bytes)."""
    digest = hashlib.sha256()
    for rel in sorted(paths):
        digest.update(rel.encode('utf-8') + b'\0')
        with open(osp.join(root, rel), 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                digest.update(block)
        digest.update(b'\0')
    return digest.hexdigest()[:16]


def _folder_files(folder: str) -> List[str]:
    """Regular files under ``folder`` (relative), compiled Python left out."""
    found = []
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        found += [
            osp.relpath(osp.join(parent, name), folder) for name in files
            if not name.endswith('.pyc')
        ]
    return found


def _package_identity(model: str) -> str:
    try:
        dist = importlib.metadata.distribution(model)
    except importlib.metadata.PackageNotFoundError:
        raise ImportError(
            f'the spaCy pipeline {model!r} is not installed: pip install '
            f'spacy, then python -m spacy download {model} (or give the '
            'folder of a pipeline trained with tools/misc/train_parser.py)'
        ) from None
    root = str(dist.locate_file(''))
    files = [
        str(f) for f in dist.files or [] if '.dist-info' not in str(f)
        and not str(f).endswith('.pyc') and osp.isfile(osp.join(root, str(f)))
    ]
    return f'{model} {dist.version} sha256:{_files_digest(root, files)}'


def pipeline_identity(model: str) -> str:
    """Who parses: the pipeline's name, version and a digest of its files.

    The identity that keys a parse cache is made of the pipeline's content,
    not of its name or place: a pipeline retrained in place (same folder,
    same ``meta.json`` version) is another parser and its parses are made
    again, while a pipeline folder copied or moved elsewhere keeps its
    cache. Found without loading spaCy: a package's version and files from
    its installed metadata, a folder's name and version from its
    ``meta.json`` and the SHA-256 of every file in it (compiled Python left
    out).

    Args:
        model (str): A pipeline package name or folder.

    Returns:
        str: ``'<name> <version> sha256:<16 hex digits>'``, recorded in
        parse caches.
    """
    if not is_pipeline_path(model):
        return _package_identity(model)
    folder = osp.realpath(osp.expanduser(model))
    meta_file = osp.join(folder, 'meta.json')
    if not osp.isdir(folder):
        raise FileNotFoundError(f'spaCy pipeline folder not found: {model}')
    if not osp.isfile(meta_file):
        raise FileNotFoundError(f'{model} is not a spaCy pipeline folder '
                                '(it has no meta.json)')
    meta = read_json(meta_file, 'spaCy pipeline meta file')
    if not isinstance(meta, dict):
        raise ValueError(f'{meta_file} is not a spaCy meta file (not a JSON '
                         'object); retrain or reinstall the pipeline')
    name = f"{meta.get('lang', '?')}_{meta.get('name', '?')}"
    return (f"{name} {meta.get('version', '?')} "
            f'sha256:{_files_digest(folder, _folder_files(folder))}')


def load_spacy_pipeline(model: str):
    """Load a spaCy pipeline that has a dependency parser.

    Args:
        model (str): A pipeline package name or folder.

    Returns:
        spacy.Language: The pipeline.
    """
    identity = pipeline_identity(model)
    spacy = import_spacy()
    nlp = spacy.load(
        osp.expanduser(model) if is_pipeline_path(model) else model)
    factories = [nlp.get_pipe_meta(name).factory for name in nlp.pipe_names]
    if not any(f in PARSER_FACTORIES for f in factories):
        raise ValueError(f'the spaCy pipeline {identity} has no dependency '
                         f'parser (its components: {nlp.pipe_names})')
    return nlp


def doc_to_parse(doc) -> DependencyParse:
    """A parsed spaCy ``Doc`` as a :class:`DependencyParse`.

    Args:
        doc (spacy.tokens.Doc): The parsed text.

    Returns:
        DependencyParse: Its words, spaces, heads and labels.
    """
    return DependencyParse(
        words=[token.text for token in doc],
        spaces=[bool(token.whitespace_) for token in doc],
        heads=[token.head.i for token in doc],
        deps=[token.dep_ for token in doc])


def parse_texts(nlp,
                texts: Sequence[str],
                batch_size: int = 256,
                desc: str = 'parsing expressions') -> List[DependencyParse]:
    """Parse texts with ``nlp.pipe``, showing a progress bar.

    Args:
        nlp (spacy.Language): A pipeline with a dependency parser.
        texts (Sequence[str]): The texts.
        batch_size (int): Texts per ``nlp.pipe`` batch. Defaults to 256.
        desc (str): Label of the progress bar. Defaults to
            'parsing expressions'.

    Returns:
        list[DependencyParse]: One parse per text, in order.
    """
    from tqdm import tqdm  # installed with spaCy
    return [
        doc_to_parse(doc) for doc in tqdm(
            nlp.pipe(texts, batch_size=batch_size),
            total=len(texts),
            desc=desc,
            unit='expr')
    ]
