"""Write rendered results into documents, leaving the rest byte-identical.

Markdown: the text between ``<!-- results:NAME -->`` and
``<!-- /results:NAME -->`` is replaced by a rendered block (a blank line on
each side). Metafile (OpenMMLab model-index YAML): the ``Results`` entry of
one model is replaced; it is edited as text, since a YAML round trip would
rewrite the whole file. Rendering twice gives the same file.
"""
import re
from typing import Callable, Dict, List

from ..utils.atomic_file import write_text_atomic

#: ``Task`` of the metafile entries.
METAFILE_TASK = 'Referring Remote Sensing Image Segmentation'


def marker_pair(name: str) -> List[str]:
    """The opening and closing comments of the block ``name``."""
    return [f'<!-- results:{name} -->', f'<!-- /results:{name} -->']


def marker_blocks(text: str) -> Dict[str, str]:
    """Every rendered block of a document: name -> the text between its
    markers."""
    pattern = re.compile(
        r'<!-- results:([\w.-]+) -->(.*?)<!-- /results:\1 -->', re.DOTALL)
    return {name: body for name, body in pattern.findall(text)}


def _find_once(text: str, marker: str, source: str) -> int:
    count = text.count(marker)
    if count != 1:
        found = 'not found' if count == 0 else f'found {count} times'
        raise ValueError(f'{source}: marker {marker!r} {found}')
    return text.index(marker)


def replace_marker_block(text: str, name: str, block: str, source: str) -> str:
    """Put ``block`` between the markers of ``name``.

    Args:
        text (str): The document.
        name (str): Block name (``results:NAME``).
        block (str): Rendered markdown, ``\\n`` line ends.
        source (str): The document's file, for errors.

    Returns:
        str: The document with the block replaced; line ends follow the
        document's (``\\r\\n`` if it has any).
    """
    opening, closing = marker_pair(name)
    start = _find_once(text, opening, source) + len(opening)
    end = _find_once(text, closing, source)
    if end < start:
        raise ValueError(f'{source}: {closing!r} comes before {opening!r}')
    newline = '\r\n' if '\r\n' in text else '\n'
    body = newline.join([''] * 2 + block.strip('\n').split('\n') + [''] * 2)
    return text[:start] + body + text[end:]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(' '))


def metafile_results_lines(indent: int, dataset: str,
                           metrics: Dict[str, float]) -> List[str]:
    """The ``Results`` entry of one model, as YAML lines.

    Args:
        indent (int): Indentation of the ``Results`` key.
        dataset (str): ``Dataset`` of the entry.
        metrics (dict[str, float]): ``Metrics`` of the entry.

    Returns:
        list[str]: Lines without line ends.
    """
    pad = ' ' * indent
    lines = [
        f'{pad}Results:', f'{pad}- Task: {METAFILE_TASK}',
        f'{pad}  Dataset: {dataset}', f'{pad}  Metrics:'
    ]
    lines += [
        f'{pad}    {name}: {value:.2f}' for name, value in metrics.items()
    ]
    return lines


def replace_metafile_results(text: str, model: str, dataset: str,
                             metrics: Dict[str, float], source: str) -> str:
    """Replace the ``Results`` of the model named ``model``.

    Args:
        text (str): The metafile.
        model (str): ``Name`` of the model item.
        dataset (str): ``Dataset`` of the new entry.
        metrics (dict[str, float]): ``Metrics`` of the new entry.
        source (str): The metafile's path, for errors.

    Returns:
        str: The metafile with that one entry replaced.
    """
    lines = text.splitlines(keepends=True)
    name_re = re.compile(r'^( *)- Name: *(.+?) *$')
    items = [(i, m) for i, m in ((i, name_re.match(line.rstrip('\r\n')))
                                 for i, line in enumerate(lines))
             if m and m.group(2).strip('\'"') == model]
    if len(items) != 1:
        found = 'not found' if not items else f'found {len(items)} times'
        raise ValueError(f'{source}: model {model!r} {found}')
    first, match = items[0]
    key_indent = len(match.group(1)) + 2
    results = None
    for i in range(first + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and _indent(lines[i]) < key_indent:
            break
        if (_indent(lines[i]) == key_indent
                and stripped.startswith('Results:')):
            results = i
            break
    if results is None:
        raise ValueError(f'{source}: model {model!r} has no Results key')
    end = results + 1
    while end < len(lines):
        line = lines[end]
        continued = _indent(line) > key_indent or (
            _indent(line) == key_indent and line.lstrip().startswith('- '))
        if not line.strip() or not continued:
            break
        end += 1
    newline = '\r\n' if lines[results].endswith('\r\n') else '\n'
    new = [
        line + newline
        for line in metafile_results_lines(key_indent, dataset, metrics)
    ]
    return ''.join(lines[:results] + new + lines[end:])


def update_document(path: str, edit: Callable[[str], str]) -> bool:
    """Apply ``edit`` to the file's text; write only if it changed.

    Args:
        path (str): The document.
        edit (Callable[[str], str]): Text -> new text.

    Returns:
        bool: Whether the file changed.
    """
    try:
        with open(path, encoding='utf-8', newline='') as f:
            text = f.read()
    except OSError as error:
        raise FileNotFoundError(f'cannot read {path}: {error}') from error
    new = edit(text)
    if new == text:
        return False
    write_text_atomic(path, new)
    return True
