"""The dependency parse of an expression, one typed structure for all users.

Datasets attach it to their samples (``text_parse``), the text-aware flip
swaps its direction words, the structural loss reads its tree. Parse files
(caches, gold trees) hold it as a JSON object of four lists
(:meth:`DependencyParse.to_dict` / :meth:`DependencyParse.from_dict`).
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

#: The fields of a parse in a parse file, in order.
PARSE_FIELDS = ('words', 'spaces', 'heads', 'deps')


@dataclass(frozen=True)
class DependencyParse:
    """Word-level dependency parse of one expression.

    Attributes:
        words (tuple[str, ...]): The words; they spell the text exactly
            (see :attr:`text`).
        spaces (tuple[bool, ...]): Whether a space follows each word.
        heads (tuple[int, ...]): Absolute index of each word's head; a
            root is its own head.
        deps (tuple[str, ...]): Dependency label of each word (spaCy's
            English label set, ``'ROOT'`` for a root).
    """
    words: Tuple[str, ...] = ()
    spaces: Tuple[bool, ...] = ()
    heads: Tuple[int, ...] = ()
    deps: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in PARSE_FIELDS:
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problem = self.problem()
        if problem is not None:
            raise ValueError(f'malformed dependency parse: {problem}')

    def problem(self) -> Optional[str]:
        """What is wrong with the fields, or None."""
        num = len(self.words)
        lengths = [len(getattr(self, name)) for name in PARSE_FIELDS]
        if any(length != num for length in lengths):
            return f'words, spaces, heads and deps differ in length {lengths}'
        if not all(isinstance(w, str) and w for w in self.words):
            return 'words must be non-empty strings'
        if not all(isinstance(s, bool) for s in self.spaces):
            return 'spaces must be booleans'
        if not all(isinstance(d, str) for d in self.deps):
            return 'deps must be strings'
        if not all(
                isinstance(h, int) and not isinstance(h, bool) and 0 <= h < num
                for h in self.heads):
            return f'heads must be word indices in [0, {num})'
        return None

    @property
    def text(self) -> str:
        """The text the words spell."""
        return ''.join(w + (' ' if s else '')
                       for w, s in zip(self.words, self.spaces))

    def with_words(self, words: Sequence[str]) -> 'DependencyParse':
        """The same tree over other words (one per word)."""
        return DependencyParse(
            tuple(words), self.spaces, self.heads, self.deps)

    def to_dict(self) -> dict:
        """The parse-file form: a dict of four lists."""
        return {name: list(getattr(self, name)) for name in PARSE_FIELDS}

    @classmethod
    def from_dict(cls,
                  value: object,
                  text: Optional[str] = None,
                  source: str = 'text_parse') -> 'DependencyParse':
        """Read a parse from its parse-file form, checked.

        Args:
            value (object): A dict of the four lists of
                :data:`PARSE_FIELDS` (a :class:`DependencyParse` is
                returned as it is).
            text (str, optional): The text its words must spell. Defaults
                to None (not checked).
            source (str): Where it comes from, for the message. Defaults to
                'text_parse'.

        Returns:
            DependencyParse: The parse.

        Raises:
            ValueError: naming ``source`` (and ``text``) and what is wrong.
        """
        what = f'{source}: parse of {text!r}' if text is not None else \
            f'{source}: parse'
        if isinstance(value, cls):
            parse = value
        elif not isinstance(value, dict):
            raise ValueError(f'{what}: a parse must be a dict, got '
                             f'{type(value).__name__}')
        else:
            missing = [
                k for k in PARSE_FIELDS if not isinstance(value.get(k), list)
            ]
            if missing:
                raise ValueError(f'{what}: no list field(s) {missing}')
            try:
                parse = cls(*(value[k] for k in PARSE_FIELDS))
            except ValueError as err:
                raise ValueError(f'{what}: {err}') from None
        if text is not None and parse.text != text:
            raise ValueError(
                f'{what}: its words spell {parse.text!r}, not the text')
        return parse
