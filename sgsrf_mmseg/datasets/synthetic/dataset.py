"""The embedded synthetic dataset, generated on first use."""
import json
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Tuple

from mmengine.logging import print_log
from mmseg.registry import DATASETS

from ..refsegrs import RefSegRSDataset
from .layout import (GOLD_PARSE_FILE, LANDMARKS_FILE, PHRASE_FILE, TAGS_FILE,
                     holds_refsegrs_layout)
from .marker import ForeignDataError, read_marker
from .params import GeneratorParams
from .writer import ensure_synthetic_dataset

FOREIGN_FOLDER_HINT = (
    'SyntheticRefSegRSDataset generates into a missing or empty folder, '
    'reuses a folder the generator wrote, and reads a RefSegRS-layout '
    'folder (images/, masks/, output_phrase_<split>.txt) that it did not '
    'write as it is.')
#: Where ``text_parser=dict(train_on_gold=True)`` keeps its parser.
GOLD_TRAINED_PARSER = 'spacy_parser'


def _no_gold_trees(data_root: str) -> str:
    """Why ``text_parser=dict(train_on_gold=True)`` fails on other data."""
    return (f'text_parser=dict(train_on_gold=True): {data_root} was not '
            'generated here, so it has no gold parse trees to train a parser '
            "on; set the training dataset's text_parser=dict(model="
            "'en_core_web_sm') (pip install spacy; python -m spacy download "
            'en_core_web_sm), or text_parser=None with '
            "model.structural_loss.language_structure='self_similarity' "
            'model.structural_loss.prompt_weight=0')


def _read_by_id(path: str, key: str,
                entry: Callable[[Any], Any]) -> Dict[str, Dict[str, Any]]:
    """A generator file of per-expression entries, by id and expression."""
    try:
        with open(path, encoding='utf-8') as f:
            content = json.load(f)
        if content.get('format') != 1:
            raise ValueError(f'format {content.get("format")!r} is not 1')
        return {
            str(name): {
                str(text): entry(value)
                for text, value in by_text.items()
            }
            for name, by_text in content[key].items()
        }
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as e:
        raise ValueError(f'{path} is not a {key} file of the synthetic '
                         f'generator ({e}); generate the dataset again') \
            from None


def read_tags(path: str) -> Dict[str, Dict[str, Tuple[str, ...]]]:
    """The test groups of a split's expressions (its tags file).

    Args:
        path (str): ``output_phrase_{split}.tags.json``: ``{"format": 1,
            "tags": {"<id>": {"<expression>": ["relation", ...]}}}``.

    Returns:
        dict[str, dict[str, tuple[str, ...]]]: Tags by id and expression.
    """
    return _read_by_id(path, 'tags', lambda tags: tuple(map(str, tags)))


def _box(value: Any) -> Tuple[int, int, int, int]:
    """An inclusive ``[x0, y0, x1, y1]`` pixel box, checked."""
    box = tuple(int(v) for v in value)
    if len(box) != 4 or box[0] > box[2] or box[1] > box[3] or min(box) < 0:
        raise ValueError(f'{value!r} is not a box [x0, y0, x1, y1]')
    return box


def read_landmarks(
        path: str) -> Dict[str, Dict[str, Tuple[Tuple[int, ...], ...]]]:
    """The landmark boxes of a split's expressions (its landmarks file).

    Args:
        path (str): ``output_phrase_{split}.landmarks.json``:
            ``{"format": 1, "landmarks": {"<id>": {"<expression>":
            [[x0, y0, x1, y1], ...]}}}`` (inclusive pixel corners).

    Returns:
        dict[str, dict[str, tuple]]: Boxes by id and expression (empty for
        an expression without a relation).
    """
    return _read_by_id(path, 'landmarks',
                       lambda boxes: tuple(_box(b) for b in boxes))


#: The per-expression files of a split: (file, sentence field, reader).
SENTENCE_FILES = ((TAGS_FILE, 'tags', read_tags),
                  (LANDMARKS_FILE, 'landmark_boxes', read_landmarks))


def _is_foreign_refsegrs(root: str) -> bool:
    """Whether ``root`` holds a RefSegRS-layout dataset of someone else."""
    if not holds_refsegrs_layout(root):
        return False
    try:
        read_marker(root)
    except ForeignDataError:
        return True
    return False


@DATASETS.register_module()
class SyntheticRefSegRSDataset(RefSegRSDataset):
    """Synthetic aerial scenes written in the RefSegRS layout, then read back.

    On construction the scenes are generated into ``data_root`` unless it
    already holds them with the same parameters
    (:func:`ensure_synthetic_dataset`; concurrent processes generate once).
    Everything else is :class:`RefSegRSDataset`: the samples go through the
    real loading path.

    Each scene has 1-3 referents, each its own id (the ids of a scene
    share its image). Each sample's ``category`` says whether its target
    is of a colour-kind pair seen in training (``'seen_pair'``) or of a
    held-out pair (``'held_out_pair'``, test split only), and its ``tags``
    (a tuple of strings, per sentence) the test groups of its expression:
    ``'relation'``, ``'role_reversal'``, ``'same_image_other_referent'``,
    ``'look_alike'`` (see :mod:`.referents`), so that
    :class:`ReferringSegMetric` reports each. Its ``landmark_boxes`` are
    the boxes of the landmarks its relation names (inclusive pixel corners;
    empty without a relation), which :class:`LoadLandmarkMap` draws for the
    landmark term of the structural loss.

    A ``data_root`` that holds a RefSegRS-layout dataset the generator did
    not write is read as that dataset, without writing anything there and
    without categories or tags (one line is logged), so that a config of
    this dataset runs on another RefSegRS-layout folder by changing only
    ``data_root``. Any other non-empty folder is an error.

    ``text_parser=dict(train_on_gold=True)``: the expressions are parsed
    by a spaCy parser trained on the gold trees of the generated training
    split (``data_root/spacy_parser``, trained once), i.e. ``dict(model=
    'data_root/spacy_parser', train_from=['data_root/output_phrase_train.
    gold_parses.json'])``. Any other ``text_parser`` is taken as it is.

    Args:
        data_root (str): Dataset folder.
        generator (dict, optional): Fields of :class:`GeneratorParams`
            (``num_train``, ``num_val``, ``num_test``, ``image_size``,
            ``seed``). Defaults to None (its defaults).
        text_parser (dict, optional): See above and
            :class:`ReferringSegDataset`. Defaults to None.
        **kwargs: Arguments of :class:`RefSegRSDataset`.
    """

    def __init__(self,
                 data_root: str,
                 generator: Optional[dict] = None,
                 text_parser: Optional[dict] = None,
                 **kwargs) -> None:
        self.synthetic_info: Optional[dict] = None
        if _is_foreign_refsegrs(data_root):
            print_log(
                f'{data_root} holds a RefSegRS-layout dataset that the '
                f'synthetic generator did not write: reading it as it is '
                f'(nothing generated, generator settings unused, no '
                f'held-out-pair categories)',
                logger='current')
        else:
            try:
                self.synthetic_info = ensure_synthetic_dataset(
                    data_root, **(generator or {}))
            except ForeignDataError as e:
                raise ForeignDataError(f'{e} {FOREIGN_FOLDER_HINT}') from None
        super().__init__(
            data_root=data_root,
            text_parser=self._resolve_parser(data_root, text_parser),
            **kwargs)

    def _resolve_parser(self, data_root: str,
                        text_parser: Optional[dict]) -> Optional[dict]:
        """``train_on_gold`` as a pipeline folder and its gold files."""
        if not (text_parser or {}).get('train_on_gold'):
            return text_parser
        if self.synthetic_info is None:
            raise ValueError(_no_gold_trees(data_root))
        extra = set(text_parser) - {'train_on_gold', 'cache_file'}
        if extra:
            raise ValueError(f'text_parser=dict(train_on_gold=True) takes no '
                             f'{sorted(extra)}')
        return dict(
            {
                k: v
                for k, v in text_parser.items() if k != 'train_on_gold'
            },
            model=osp.join(data_root, GOLD_TRAINED_PARSER),
            train_from=[
                osp.join(data_root, GOLD_PARSE_FILE.format(split='train'))
            ])

    def load_references(self) -> List[dict]:
        """References of :class:`RefSegRSDataset`, with category and tags.

        Each sentence gets its ``tags`` and ``landmark_boxes`` from the
        split's tags and landmarks files, when the phrase file is the
        generator's own.

        Returns:
            list[dict]: The references.
        """
        refs = super().load_references()
        if self.synthetic_info is None:
            return refs
        held_out = set(self.synthetic_info['splits'][self.split].get(
            'held_out_target_ids', []))
        for ref in refs:
            ref['category'] = ('held_out_pair' if str(ref['image_id'])
                               in held_out else 'seen_pair')
        own_phrases = osp.join(self.data_root,
                               PHRASE_FILE.format(split=self.split))
        if osp.abspath(self.ann_file) == osp.abspath(own_phrases):
            self._attach_sentence_fields(refs)
        return refs

    def _attach_sentence_fields(self, refs: List[dict]) -> None:
        """Give every sentence its tags and landmark boxes; name what a file
        lacks."""
        for name, field, read in SENTENCE_FILES:
            path = osp.join(self.data_root, name.format(split=self.split))
            by_id = read(path)
            for ref in refs:
                for sent in ref['sentences']:
                    found = by_id.get(str(ref['image_id']),
                                      {}).get(sent['text'])
                    if found is None:
                        raise ValueError(
                            f'{path} has no {field} for id '
                            f'{ref["image_id"]}, expression '
                            f'{sent["text"]!r} ({self.ann_file}, line '
                            f'{sent["sent_id"]}); generate the dataset '
                            f'again')
                    sent[field] = found

    @classmethod
    def find_missing_files(cls,
                           data_root: Optional[str] = None,
                           generator: Optional[dict] = None,
                           **kwargs) -> List[str]:
        """Check the folder without generating anything.

        Args:
            data_root (str, optional): Dataset folder. Defaults to None.
            generator (dict, optional): As in the constructor. Defaults to
                None.
            **kwargs: The other arguments of the dataset's config.

        Returns:
            list[str]: For a RefSegRS-layout folder the generator did not
            write, the problems :class:`RefSegRSDataset` finds; otherwise
            an invalid generator setting or a folder the generator may not
            write into; empty when the data can be generated or reused.
        """
        if not data_root:
            return []
        if _is_foreign_refsegrs(data_root):
            problems = super().find_missing_files(
                data_root=data_root, **kwargs)
            if (kwargs.get('text_parser') or {}).get('train_on_gold'):
                problems.append(_no_gold_trees(data_root))
            return problems
        try:
            GeneratorParams.from_dict(generator)
            read_marker(data_root)
        except ForeignDataError as e:
            return [f'{e} {FOREIGN_FOLDER_HINT}']
        except ValueError as e:
            return [f'generator: {e}']
        return []
