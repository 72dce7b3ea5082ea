"""Read a list of (image, expression) pairs: CSV with a header, or JSON lines.

Rules:

* The file is UTF-8 (a byte-order mark is allowed); another encoding is an
  error naming the file and the line.
* CSV: the first line is a header naming the columns ``image``, ``text``
  and optionally ``name``, in any order; other or repeated columns are an
  error. Every row is one line (a quoted field may hold commas, never a
  line break) with as many fields as the header; a row that spans several
  lines (typically an unclosed quote, which swallows the rows after it)
  or has more or fewer fields is a row error naming its lines.
* JSON lines (``.jsonl``, ``.ndjson``): one object per line with the same
  fields; other fields are an error.
* Fields: ``image`` a non-empty string (a path; relative paths are read
  from the list's folder), ``text`` an expression
  (:func:`~sgsrf_mmseg.utils.expression.clean_expression`), ``name`` an
  optional output name (:func:`~sgsrf_mmseg.apis.output_files.
  check_output_name`; default: the image's file name without extension,
  with ``_<row>`` added when an earlier row used it).
* Blank lines are skipped; rows are numbered from 1 without them and
  without the header.
"""
import csv
import io
import json
import os.path as osp
from dataclasses import dataclass
from typing import List, Tuple, Union

from ..utils.expression import clean_expression
from .output_files import check_output_name

FIELDS = ('image', 'text', 'name')
REQUIRED = ('image', 'text')
JSON_LINES = ('.jsonl', '.ndjson')


class PairListError(ValueError):
    """The list file as a whole cannot be read."""


@dataclass
class Pair:
    """One valid row: where it is, what to segment and the output name."""
    row: int
    where: str
    image: str
    text: str
    name: str


@dataclass
class RowError:
    """One row that cannot be segmented, and why."""
    row: int
    where: str
    message: str

    def __str__(self) -> str:
        return f'row {self.row} ({self.where}): {self.message}'


Entry = Union[Pair, RowError]


def _read_text(path: str) -> str:
    if osp.isdir(path):
        raise PairListError(f'list of pairs {path} is a folder, not a file')
    if not osp.isfile(path):
        raise PairListError(f'list of pairs not found: {path}')
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b'\n') + 1
        column = err.start - (data.rfind(b'\n', 0, err.start) + 1) + 1
        raise PairListError(
            f'{path} line {line} is not UTF-8 text (byte 0x'
            f'{data[err.start]:02x} at column {column}); save the list as '
            'UTF-8') from None


def _lines(first: int, last: int) -> str:
    return f'line {first}' if first == last else f'lines {first}-{last}'


def _csv_header(record: List[str], path: str) -> List[str]:
    header = [field.strip().lower() for field in record]
    unknown = [field for field in header if field not in FIELDS]
    missing = [field for field in REQUIRED if field not in header]
    if not unknown and not missing and len(set(header)) == len(header):
        return header
    if not set(header) & set(FIELDS):
        problem = 'is not a header'
    elif unknown or missing:
        problem = (f'has unknown columns {unknown}'
                   if unknown else f'lacks the columns {missing}')
    else:
        problem = 'names a column twice'
    raise PairListError(
        f'{path} line 1 {problem}: the first line must name the columns '
        f"image,text[,name]; got {','.join(record)!r}")


def _csv_rows(text: str, path: str) -> List[Tuple[str, object]]:
    """(where, dict or error message) per CSV record after the header."""
    reader = csv.reader(io.StringIO(text, newline=''))
    header, rows, end = None, [], 0
    for record in reader:
        start, end = end + 1, reader.line_num
        if not record:
            continue
        if header is None:
            header = _csv_header(record, path)
            continue
        where = f'{osp.basename(path)} {_lines(start, end)}'
        if end > start:
            rows.append((where, 'the row spans several lines (an unclosed '
                         'quote?); a row must be one line'))
        elif len(record) != len(header):
            rows.append((where, f'{len(record)} fields where the header '
                         f'names {len(header)} (quote a field that holds '
                         'commas)'))
        else:
            rows.append((where, dict(zip(header, record))))
    if header is None:
        raise PairListError(f'{path} is empty: it needs a header line '
                            'image,text[,name] and a row per pair')
    return rows


def _json_rows(text: str, path: str) -> List[Tuple[str, object]]:
    rows = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f'{osp.basename(path)} line {line_no}'
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            rows.append((where, f'not valid JSON: {err}'))
            continue
        if not isinstance(row, dict):
            rows.append((where, 'a row must be a JSON object with the '
                         'fields image and text'))
            continue
        unknown = sorted(set(row) - set(FIELDS))
        rows.append((where, f'unknown fields {unknown}; the fields are '
                     'image, text and optional name' if unknown else row))
    return rows


def _pair(row: dict, row_no: int, where: str, base_dir: str,
          used: set) -> Pair:
    image = row.get('image')
    if image in (None, ''):
        raise ValueError("field 'image' is missing or empty")
    if not isinstance(image, str):
        raise ValueError("field 'image' must be a string (an image path), "
                         f'got {type(image).__name__} {image!r}')
    if '\x00' in image:
        raise ValueError(f"field 'image'={image!r} holds a NUL character")
    if row.get('text') is None:
        raise ValueError("field 'text' is missing")
    text = clean_expression(row['text'], field='text')
    image_path = osp.join(base_dir, image)
    name = row.get('name')
    if name in (None, ''):
        name = osp.splitext(osp.basename(image_path))[0]
    name = check_output_name(name)
    while name in used:
        name = check_output_name(f'{name}_{row_no}')
    used.add(name)
    return Pair(row_no, where, image_path, text, name)


def read_pair_list(path: str) -> List[Entry]:
    """Read and check every row of a list of pairs (see the module rules).

    Args:
        path (str): A CSV (with header) or JSON-lines file.

    Returns:
        list[Pair | RowError]: One entry per non-blank row, in file order.

    Raises:
        PairListError: The file is missing, not UTF-8, or its CSV header
            is wrong.
    """
    path = str(path)
    text = _read_text(path)
    if osp.splitext(path)[1].lower() in JSON_LINES:
        rows = _json_rows(text, path)
    else:
        rows = _csv_rows(text, path)
    base_dir = osp.dirname(osp.abspath(path))
    used, entries = set(), []
    for row_no, (where, row) in enumerate(rows, 1):
        if isinstance(row, str):
            entries.append(RowError(row_no, where, row))
            continue
        try:
            entries.append(_pair(row, row_no, where, base_dir, used))
        except (ValueError, TypeError) as err:
            entries.append(RowError(row_no, where, str(err)))
    return entries
