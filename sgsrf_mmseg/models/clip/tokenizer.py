"""CLIP tokenization: open_clip's BPE tokenizer, offline."""
import logging
from functools import lru_cache
from typing import List, Tuple

import torch
from mmengine.logging import print_log
from open_clip.tokenizer import SimpleTokenizer


@lru_cache(maxsize=1)
def clip_tokenizer() -> SimpleTokenizer:
    """open_clip's BPE tokenizer, read once from the vocabulary it ships."""
    return SimpleTokenizer()


def tokenize(texts: List[str],
             context_length: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Tokenize texts with open_clip's tokenizer (SOT, tokens, EOT, zeros).

    open_clip cuts a text longer than ``context_length`` tokens and keeps
    EOT last; one warning names the texts that were cut.

    Args:
        texts (list[str]): The texts.
        context_length (int): Token positions.

    Returns:
        tuple[Tensor, Tensor]: Token ids ``(B, context_length)`` and the
        number of tokens of each text, SOT and EOT included, ``(B,)``.
    """
    tokenizer = clip_tokenizer()
    tokens = tokenizer(list(texts), context_length=context_length)
    lengths = (tokens == tokenizer.eot_token_id).int().argmax(dim=1) + 1
    cut = [
        text for text, length in zip(texts, lengths.tolist())
        if length == context_length
        and len(tokenizer.encode(text)) + 2 > context_length
    ]
    if cut:
        print_log(
            f'{len(cut)} text(s) longer than context_length='
            f'{context_length} tokens were truncated: {cut}',
            logger='current',
            level=logging.WARNING)
    return tokens, lengths


def align_words(words: List[str], spaces: List[bool]) -> List[int]:
    """Word index of every BPE token of the text the words make up.

    The text is ``''.join(w + (' ' if s else '') ...)``; its tokens are
    those :func:`tokenize` gives (without SOT/EOT).

    Args:
        words (list[str]): The words, as a parser split them.
        spaces (list[bool]): Whether a space follows each word.

    Returns:
        list[int]: One word index per token, in order.
    """
    tokenizer = clip_tokenizer()
    text = ''.join(w + (' ' if s else '') for w, s in zip(words, spaces))
    owners = []
    for index, word in enumerate(words):
        owners += [index] * len(tokenizer.encode(word))
    if len(owners) != len(tokenizer.encode(text)):
        raise ValueError(f'cannot align the words {words} to the BPE tokens '
                         f'of {text!r}')
    return owners
