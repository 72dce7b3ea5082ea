"""What one forward pass of SGSRF computed, stage by stage, ready to draw.

:class:`StagePanels` holds, for one image and one expression, the tensors
of the stages as numpy arrays: how the text tower read the expression (its
CLIP tokens, aligned to the words of the dependency parse), each CCR
block's patch<-word attention of each content word, the grounding cue G,
GPG's prompts, the grounding adapters' modulation inside SAM's encoder and
the final mask. :func:`sgsrf_mmseg.apis.trace_stages` fills it from a pass
of the model; the drawing functions of this package only read it.
"""
from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np

from ..utils.dependency_parse import DependencyParse


@dataclass
class WordAttention:
    """Where CCR writes one word into the image, block by block.

    Attributes:
        word_index (int): Index of the word (in :attr:`StagePanels.words`).
        word (str): The word.
        token_positions (tuple[int, ...]): Its positions in the text tower's
            output (SOT is 0, the first token of the expression 1).
        maps (tuple[np.ndarray, ...]): One ``(h, w)`` float32 map per CCR
            block: the head-averaged attention each patch pays to the word
            (summed over its tokens), i.e. ``patch_word_attn[b][:,
            token_positions].sum(-1)`` on the patch grid.
    """
    word_index: int
    word: str
    token_positions: Tuple[int, ...]
    maps: Tuple[np.ndarray, ...]


@dataclass
class AdapterModulation:
    """What one grounding adapter changed in SAM's image encoder.

    Attributes:
        block (int): Index of the SAM encoder block it follows.
        magnitude (np.ndarray): ``(He, We)`` float32, the L2 norm over
            channels of the adapter's change of each token, ``|x' - x|``.
        relative (float): Mean change over the mean token norm ``|x|``.
    """
    block: int
    magnitude: np.ndarray
    relative: float


@dataclass
class StagePanels:
    """The stages of one forward pass for one image and one expression.

    Maps on the CLIP patch grid are ``(h, w)``; coordinates are normalised
    to the model input (0..1, the left/top edge at 0).

    Attributes:
        text (str): The expression as the model read it.
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB, the model's input
            (resized, padded), over which the maps are drawn.
        words (tuple[str, ...]): The words: the parse's, or the
            expression split at spaces when there is no parse.
        parse (DependencyParse, optional): The dependency parse, if any.
        parse_source (str): Who parsed the expression, or why there is no
            parse.
        tokens (tuple[str, ...]): The BPE tokens the text tower read (SOT
            and EOT left out), in order.
        token_words (tuple[int, ...]): The word of each read token.
        cut_tokens (tuple[str, ...]): Tokens past the text context, which
            the tower never read.
        attention (tuple[WordAttention, ...]): Per content word with at
            least one read token (every word when there is no parse).
        num_blocks (int): CCR blocks (0: no attention to draw).
        cue (np.ndarray): ``(h, w)`` float32, ``sigmoid(G)``.
        points (np.ndarray, optional): ``(P, 2)`` GPG's point prompts (x,
            y), None when the config makes none.
        point_labels (np.ndarray, optional): ``(P,)`` 1 positive, 0
            negative.
        box (np.ndarray, optional): ``(4,)`` GPG's box (x0, y0, x1, y1).
        dense_magnitude (np.ndarray, optional): ``(h', w')`` L2 norm over
            channels of GPG's dense prompt.
        prompt_kinds (tuple[str, ...]): The prompts GPG made ('queries',
            'points', 'box', 'dense'); empty without GPG.
        modulation (tuple[AdapterModulation, ...]): One per adapter.
        probability (np.ndarray): ``(H0, W0)`` float32 target probability
            at the original image size.
        mask (np.ndarray): ``(H0, W0)`` uint8 0/1, the predicted mask.
        score (float): Mean probability over the mask (0 if empty).
        word_roles (tuple[str, ...]): The role the structural loss gives
            each word, read from the parse: 'head' (names the target),
            'position' (places it in the image), 'landmark' (an object it
            is related to) or '' (none); empty without a parse.
        notes (tuple[str, ...]): What a reader must know (no parse, a cut
            expression, a one-word expression, a stage the config leaves
            out).
    """
    text: str
    image: np.ndarray
    words: Tuple[str, ...]
    parse: Optional[DependencyParse]
    parse_source: str
    tokens: Tuple[str, ...]
    token_words: Tuple[int, ...]
    cut_tokens: Tuple[str, ...]
    attention: Tuple[WordAttention, ...]
    num_blocks: int
    cue: np.ndarray
    probability: np.ndarray
    mask: np.ndarray
    score: float
    points: Optional[np.ndarray] = None
    point_labels: Optional[np.ndarray] = None
    box: Optional[np.ndarray] = None
    dense_magnitude: Optional[np.ndarray] = None
    prompt_kinds: Tuple[str, ...] = ()
    modulation: Tuple[AdapterModulation, ...] = ()
    word_roles: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = field(default_factory=tuple)

    def word_role(self, index: int) -> str:
        """The structural role of word ``index`` ('' for none)."""
        return self.word_roles[index] if self.word_roles else ''

    def word_tokens(self, index: int) -> Tuple[str, ...]:
        """The read tokens of word ``index`` (none if it was cut)."""
        return tuple(token
                     for token, word in zip(self.tokens, self.token_words)
                     if word == index)
