"""Shared base class of the referring segmentation datasets."""
import copy
import logging
import os.path as osp
import re
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from ..utils.expression import clean_dataset_expression
from .sample_files import check_sample_files
from .text_parse import (attach_text_parses, check_text_parser_config,
                         text_parse_file)


class PhraseLine(NamedTuple):
    """One parsed line of an ``output_phrase_<split>.txt`` file."""
    line_no: int
    key: str
    raw_text: str
    text: str


def parse_phrase_line(line: str, key_re: 're.Pattern') -> Tuple[str, str]:
    """Split a non-blank ``<key> <expression>`` line.

    Args:
        line (str): The line.
        key_re (re.Pattern): Pattern the whole key must match.

    Returns:
        tuple[str, str]: The key and the raw expression (possibly empty),
        as written, without the line's final ``\n``.
    """
    if line.endswith('\n'):
        line = line[:-1]
    parts = line.lstrip().split(maxsplit=1)
    if key_re.fullmatch(parts[0]) is None:
        raise ValueError(f'malformed line {line.rstrip()!r} (expected '
                         f'"<key> <expression>" with a key matching '
                         f'{key_re.pattern!r})')
    return parts[0], parts[1] if len(parts) > 1 else ''


def read_phrase_file(
    path: str,
    key_pattern: str,
    malformed: Optional[List[Tuple[int, str]]] = None
) -> Tuple[List[PhraseLine], List[int]]:
    """Read a ``<key> <expression>`` file (RefSegRS and RISBench layout).

    The file is UTF-8, with or without a byte-order mark. Blank lines are
    ignored. A line whose first token does not match ``key_pattern`` is
    malformed: an error naming the file and the line number is raised, or
    collected in ``malformed``. A line with a valid key but no expression
    (or only whitespace after it) is returned in the second list.

    Args:
        path (str): The phrase file.
        key_pattern (str): Regular expression the whole key must match
            (case-insensitive).
        malformed (list[tuple[int, str]], optional): If given, the line
            number and the reason of each malformed line are appended to it
            and reading goes on. Defaults to None (raise at the first one).

    Returns:
        tuple[list[PhraseLine], list[int]]: Parsed lines with a non-empty
        expression, and the line numbers (1-based) of empty expressions.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    key_re = re.compile(key_pattern, re.IGNORECASE)
    lines, empty = [], []
    with open(path, encoding='utf-8-sig') as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                key, raw_text = parse_phrase_line(line, key_re)
            except ValueError as e:
                if malformed is None:
                    raise ValueError(f'{path}, line {line_no}: {e}') from None
                malformed.append((line_no, str(e)))
                continue
            text = clean_dataset_expression(raw_text)
            if not text:
                empty.append(line_no)
                continue
            lines.append(PhraseLine(line_no, key, raw_text, text))
    return lines, empty


def warn_skipped(source: str, what: List[str]) -> None:
    """Log one warning listing skipped empty expressions.

    Args:
        source (str): The annotation file.
        what (list[str]): Where each skipped expression was.
    """
    if what:
        shown = ', '.join(what[:20]) + (' ...' if len(what) > 20 else '')
        print_log(
            f'{source}: skipped {len(what)} empty expression(s) at {shown}',
            logger='current',
            level=logging.WARNING)


class ReferringSegDataset(BaseSegDataset):
    """Base class of referring segmentation datasets.

    Subclasses implement :meth:`load_references`, which returns one dict per
    reference (one target mask of one image) with its ``sentences``.
    In test mode (``test_mode=True``) the dataset has one item per
    expression (every sentence is scored); in training mode it has one item
    per reference and each read picks one of its sentences at random with
    ``numpy.random`` (which mmengine seeds in every data loader worker).

    Each item (:meth:`get_data_info`) holds ``img_path``, ``text`` (cleaned
    expression), ``ref_id``, ``sent_id``, ``image_id``, ``category`` (str or
    None), ``seg_fields``, ``reduce_zero_label=False`` and what
    :class:`LoadReferringMask` needs: ``seg_map_path`` and ``mask_threshold``
    for mask files, or ``mask_annotations`` and ``mask_size`` for COCO
    annotations; with ``text_parser``, also ``text_parse``, the dependency
    parse of ``text`` (see :func:`~.text_parse.attach_text_parses`).

    Expressions are cleaned by the inference rule
    (:func:`~sgsrf_mmseg.utils.expression.clean_dataset_expression`:
    stripped, inner white space collapsed, control characters removed).
    Expressions empty after cleaning are skipped with one logged warning
    naming where they are; a reference left without expressions is dropped.
    Expressions longer than the text encoder's context are kept: the text
    encoder truncates them with a warning. Every image and mask file the
    references name must exist: construction raises one error listing all
    missing ones (their content is read by the pipeline).

    Args:
        data_root (str): Root of the released dataset.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        ann_file (str, optional): Annotation file relative to ``data_root``;
            ``{split}`` is replaced by the split. Defaults to None (the
            dataset's released location).
        data_prefix (dict, optional): Image (and mask) folders relative to
            ``data_root``. Defaults to None (the released folders).
        text_parser (dict, optional): ``dict(model=..., cache_file=...)``:
            the spaCy pipeline (package name or folder) and the parse cache
            (default: beside the annotation file). Defaults to None (no
            parses).
        **kwargs: Other arguments of :class:`BaseSegDataset` (``pipeline``,
            ``test_mode``, ``serialize_data``, ``lazy_init``, ...).
    """
    METAINFO = dict(
        classes=('background', 'target'), palette=[[0, 0, 0], [255, 255, 255]])
    SPLITS = ('train', 'val', 'test')
    DEFAULT_ANN_FILE = ''
    DEFAULT_DATA_PREFIX: Dict[str, str] = dict()

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 data_prefix: Optional[dict] = None,
                 text_parser: Optional[dict] = None,
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'split must be one of {self.SPLITS}, got '
                             f'{split!r}')
        if kwargs.get('reduce_zero_label'):
            raise ValueError(
                f'{type(self).__name__} does not support reduce_zero_label')
        self.split = split
        check_text_parser_config(text_parser)
        self.text_parser = text_parser
        ann_file = self.DEFAULT_ANN_FILE if ann_file is None else ann_file
        if data_prefix is None:
            data_prefix = copy.deepcopy(self.DEFAULT_DATA_PREFIX)
        super().__init__(
            ann_file=ann_file.format(split=split),
            data_root=data_root,
            data_prefix=data_prefix,
            **kwargs)

    @classmethod
    def required_paths(cls,
                       split: str = 'train',
                       ann_file: Optional[str] = None,
                       data_prefix: Optional[dict] = None,
                       **kwargs) -> List[Tuple[str, str, bool]]:
        """Files and folders the split needs, as the constructor resolves them.

        Args:
            split (str): The split. Defaults to ``'train'``.
            ann_file (str, optional): As in the constructor. Defaults to None.
            data_prefix (dict, optional): As in the constructor. Defaults to
                None.
            **kwargs: Other constructor arguments (ignored here).

        Returns:
            list[tuple[str, str, bool]]: ``(config field, path, is_folder)``;
            relative paths are relative to ``data_root``.
        """
        ann_file = cls.DEFAULT_ANN_FILE if ann_file is None else ann_file
        if data_prefix is None:
            data_prefix = cls.DEFAULT_DATA_PREFIX
        paths = []
        if ann_file:
            paths.append(('ann_file', ann_file.format(split=split), False))
        paths += [(f'data_prefix.{key}', folder, True)
                  for key, folder in data_prefix.items()
                  if isinstance(folder, str) and folder]
        return paths

    @classmethod
    def find_missing_files(cls,
                           data_root: Optional[str] = None,
                           split: str = 'train',
                           **kwargs) -> List[str]:
        """Check that the files and folders the split needs exist.

        Only existence is checked; nothing is read or parsed, so it is cheap
        enough to run on every start-up.

        Args:
            data_root (str, optional): Dataset root. Defaults to None.
            split (str): The split. Defaults to ``'train'``.
            **kwargs: The other arguments of the dataset's config
                (``ann_file``, ``data_prefix``, ...); unknown keys are
                ignored.

        Returns:
            list[str]: One readable message per problem, e.g.
            ``'data_root data/RefSegRS has no output_phrase_train.txt
            (ann_file)'``; empty when everything is there.
        """
        if split not in cls.SPLITS:
            return [f'split={split!r} is not one of {cls.SPLITS}']
        if data_root and not osp.exists(data_root):
            return [f'data_root {data_root} does not exist']
        if data_root and not osp.isdir(data_root):
            return [f'data_root {data_root} is not a folder']
        problems = []
        for field, path, is_folder in cls.required_paths(split, **kwargs):
            in_root = bool(data_root) and not osp.isabs(path)
            full = osp.join(data_root, path) if in_root else path
            if osp.isdir(full) if is_folder else osp.isfile(full):
                continue
            if in_root:
                what = f'folder {path}' if is_folder else path
                problems.append(
                    f'data_root {data_root} has no {what} ({field})')
            else:
                problems.append(f'{field} {path} does not exist')
        return problems

    def load_references(self) -> List[dict]:
        """Load the references of the split.

        Returns:
            list[dict]: One dict per reference with ``img_path``,
            ``ref_id``, ``image_id``, ``category``, the mask fields, and
            ``sentences``: a list of ``dict(sent_id=..., text=...)``; a
            sentence's other fields (e.g. ``tags``) go into the items of
            that sentence as they are.
        """
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        """Expand references into items (one per expression in test mode).

        Returns:
            list[dict]: The data list.
        """
        data_list = []
        references = self.load_references()
        check_sample_files(references, self.ann_file)
        for ref in references:
            sentences = ref.pop('sentences')
            ref.update(seg_fields=[], reduce_zero_label=False)
            if self.test_mode:
                for sent in sentences:
                    data_list.append(dict(ref, **sent))
            else:
                data_list.append(dict(ref, sentences=sentences))
        attach_text_parses(data_list, self.text_parser, self.ann_file)
        return data_list

    @property
    def text_parse_file(self) -> Optional[str]:
        """The split's parse cache (None without ``text_parser``)."""
        return text_parse_file(self.text_parser, self.ann_file)

    def get_data_info(self, idx: int) -> dict:
        """Get an item; in training mode pick one sentence at random.

        Args:
            idx (int): Index of the item.

        Returns:
            dict: The item, with the picked sentence's fields: ``text`` and
            ``sent_id`` (and ``text_parse``, or what else the dataset
            gives per sentence).
        """
        info = super().get_data_info(idx)
        sentences = info.pop('sentences', None)
        if sentences is not None:
            info.update(sentences[np.random.randint(len(sentences))])
        return info


class PhraseFileDataset(ReferringSegDataset):
    """Base of datasets with ``<key> <expression>`` lines (RefSegRS layout).

    Lines sharing a key share the image and the mask, so they form one
    reference with several sentences. ``ref_id`` and ``image_id`` are the
    key without its file extension; ``sent_id`` is the line number.

    Args:
        key_pattern (str): Regular expression a line's key must match;
            other lines are malformed and raise an error naming the file and
            the line.
        mask_threshold (float): Mask pixels ``> mask_threshold`` are the
            target.
        **kwargs: Arguments of :class:`ReferringSegDataset`.
    """

    def __init__(self, key_pattern: str, mask_threshold: float,
                 **kwargs) -> None:
        self.key_pattern = key_pattern
        self.mask_threshold = mask_threshold
        super().__init__(**kwargs)

    def key_to_files(self, key: str) -> Tuple[str, str]:
        """Image and mask file names of a key (relative to their folders)."""
        raise NotImplementedError

    def load_references(self) -> List[dict]:
        """Read the phrase file and group its lines by key.

        Returns:
            list[dict]: One reference per key, in order of first appearance.
        """
        lines, empty = read_phrase_file(self.ann_file, self.key_pattern)
        warn_skipped(self.ann_file, [f'line {n}' for n in empty])
        return self.references_from_lines(lines)

    def references_from_lines(self, lines: List[PhraseLine]) -> List[dict]:
        """Group parsed phrase lines by key into references.

        Args:
            lines (list[PhraseLine]): Lines with a non-empty expression.

        Returns:
            list[dict]: One reference per key, in order of first appearance.
        """
        img_dir = self.data_prefix.get('img_path', '')
        seg_dir = self.data_prefix.get('seg_map_path', '')
        refs: Dict[str, dict] = dict()
        for line in lines:
            if line.key not in refs:
                img_name, seg_name = self.key_to_files(line.key)
                stem = osp.splitext(line.key)[0]
                refs[line.key] = dict(
                    img_path=osp.join(img_dir, img_name),
                    seg_map_path=osp.join(seg_dir, seg_name),
                    mask_threshold=self.mask_threshold,
                    ref_id=stem,
                    image_id=stem,
                    category=None,
                    sentences=[])
            refs[line.key]['sentences'].append(
                dict(sent_id=line.line_no, text=line.text))
        return list(refs.values())
