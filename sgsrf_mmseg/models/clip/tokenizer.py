"""CLIP tokenization: token ids for the text tower, BPE tokens to words.

Texts are tokenized by open_clip's ``SimpleTokenizer`` with the BPE
vocabulary open_clip ships (no network): it cleans a text (``ftfy``, HTML
unescaping, white space collapsed, lower case), splits it with its regular
expression into pieces and BPE-encodes each piece. :func:`align_words` walks
the same pieces to tell which word of a parse every BPE token belongs to.
"""
import logging
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from open_clip.tokenizer import SimpleTokenizer, bytes_to_unicode

_END_OF_WORD = '</w>'


@lru_cache(maxsize=1)
def bpe_tokenizer() -> SimpleTokenizer:
    """open_clip's BPE tokenizer, read once from the vocabulary it ships."""
    return SimpleTokenizer()


def tokenize(texts: Sequence[str],
             context_length: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Tokenize texts as the CLIP text tower reads them.

    open_clip's tokenizer gives ``SOT + tokens + EOT``, zero-padded; a text
    longer than ``context_length`` keeps its first ``context_length - 2``
    tokens and EOT last, and one warning names every text that was cut.

    Args:
        texts (Sequence[str]): The texts (not a single ``str``).
        context_length (int): Token positions per text (77 for the official
            CLIP models); at least 2.

    Returns:
        tuple[Tensor, Tensor]: Token ids ``(B, context_length)`` (long, on
        the CPU) and the number of tokens of each text including SOT and
        EOT ``(B,)``.
    """
    if isinstance(texts, str):
        raise TypeError('texts must be a sequence of strings, not a str')
    if context_length < 2:
        raise ValueError(f'context_length must be at least 2 (SOT and EOT), '
                         f'got {context_length}')
    texts = list(texts)
    tokenizer = bpe_tokenizer()
    tokens = tokenizer(texts, context_length=context_length)
    # The last EOT ends the text: only padding (0) follows it, while a text
    # may spell out '<end_of_text>' itself earlier.
    positions = torch.arange(context_length).expand_as(tokens)
    is_eot = tokens == tokenizer.eot_token_id
    lengths = torch.where(is_eot, positions, -1).max(dim=1).values + 1
    cut = [
        text for text, length in zip(texts, lengths.tolist())
        if length == context_length and len(tokenizer.encode(text)) +
        2 > context_length
    ]
    if cut:
        shown = ', '.join(repr(t) for t in cut[:10])
        more = f' and {len(cut) - 10} more' if len(cut) > 10 else ''
        print_log(
            f'{len(cut)} text(s) longer than context_length='
            f'{context_length} tokens were truncated: {shown}{more}',
            logger='current',
            level=logging.WARNING)
    return tokens, lengths


def _exact_char_owners(words: Sequence[str], spaces: Sequence[bool],
                       cleaned: str) -> Optional[List[int]]:
    """Word index of each character of ``cleaned``, cleaning word by word.

    Returns None when cleaning the words one by one does not give
    ``cleaned`` (a clean-up that spans words, such as ``&amp;`` split by the
    parser).
    """
    clean_fn = bpe_tokenizer().clean_fn
    owners: List[int] = []
    pieces: List[str] = []
    gap = False
    for index, (word, space) in enumerate(zip(words, spaces)):
        piece = clean_fn(word)
        gap = gap or word[:1].isspace()
        if piece:
            if gap and pieces:
                pieces.append(' ')
                owners.append(-1)
            pieces.append(piece)
            owners += [index] * len(piece)
            gap = False
        gap = gap or space or word[-1:].isspace()
    return owners if ''.join(pieces) == cleaned else None


def _matched_char_owners(words: Sequence[str], spaces: Sequence[bool],
                         cleaned: str) -> List[int]:
    """Word index of each character of ``cleaned``, by matching characters.

    Characters the clean-up changed take the owner of the nearest matched
    character before them (after them at the start).
    """
    raw, raw_owners = [], []
    for index, (word, space) in enumerate(zip(words, spaces)):
        for char in word + (' ' if space else ''):
            lowered = char.lower()
            raw.append(lowered)
            raw_owners += [index] * len(lowered)
    owners: List[Optional[int]] = [None] * len(cleaned)
    matcher = SequenceMatcher(None, ''.join(raw), cleaned, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            owners[block.b + k] = raw_owners[block.a + k]
    previous = next((o for o in owners if o is not None), 0)
    for k, owner in enumerate(owners):
        owners[k] = previous = previous if owner is None else owner
    return owners


def align_words(words: Sequence[str],
                spaces: Sequence[bool],
                context_length: Optional[int] = None) -> List[int]:
    """Word index of every BPE token of a parsed text.

    The text is ``''.join(w + (' ' if s else '') for w, s in zip(words,
    spaces))``; its BPE tokens (SOT and EOT excluded) are those
    :func:`tokenize` produces. A token belongs to the word that holds most
    of its characters (the first such word on a tie), so words split
    differently by the parser and by CLIP still align: spaCy's ``do`` +
    ``n't`` and CLIP's ``don`` + ``'t`` give ``[0, 1]``. A word may own no
    token (white space) or several (``storage`` -> one, ``ünïcode`` ->
    four).

    Args:
        words (Sequence[str]): The words of the parse.
        spaces (Sequence[bool]): Whether a space follows each word.
        context_length (int, optional): Keep only the tokens that
            :func:`tokenize` keeps at this context length (the first
            ``context_length - 2``). Defaults to None (all tokens).

    Returns:
        list[int]: One word index per BPE token, in order.
    """
    if len(words) != len(spaces):
        raise ValueError(f'words and spaces differ in length ({len(words)} '
                         f'vs {len(spaces)})')
    tokenizer = bpe_tokenizer()
    text = ''.join(w + (' ' if s else '') for w, s in zip(words, spaces))
    cleaned = tokenizer.clean_fn(text)
    owners = _exact_char_owners(words, spaces, cleaned)
    if owners is None:
        owners = _matched_char_owners(words, spaces, cleaned)
    byte_encoder = bytes_to_unicode()
    token_ids, word_ids = [], []
    for match in tokenizer.pat.finditer(cleaned):
        piece = match.group()
        byte_chars = [
            match.start() + k for k, char in enumerate(piece)
            for _ in char.encode('utf-8')
        ]
        encoded = ''.join(byte_encoder[b] for b in piece.encode('utf-8'))
        start = 0
        for token in tokenizer.bpe(encoded).split(' '):
            num_bytes = len(token) - (
                len(_END_OF_WORD) if token.endswith(_END_OF_WORD) else 0)
            chars = sorted(set(byte_chars[start:start + num_bytes]))
            start += num_bytes
            # pieces hold no white space, so every owner is a word here
            votes = Counter(owners[c] for c in chars)
            word_ids.append(votes.most_common(1)[0][0])
            token_ids.append(tokenizer.encoder[token])
    expected = tokenizer.encode(text)
    if token_ids != expected:
        raise ValueError(
            f'BPE tokens of {text!r} walked piece by piece ({token_ids}) '
            f'differ from the tokenizer output ({expected})')
    if context_length is not None:
        word_ids = word_ids[:max(context_length - 2, 0)]
    return word_ids
