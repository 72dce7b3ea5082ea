"""What SGSRF's stages hand to each other, each field documented once.

Shapes use ``B`` images, ``L`` text positions (SOT, the expression's BPE
tokens, EOT, padding), ``h x w`` the CLIP patch grid (``N = h * w``), ``D``
the CCR width and ``C`` SAM's prompt width.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

from torch import Tensor


@dataclass
class TextFeatures:
    """Output of the text tower.

    Attributes:
        words (Tensor): ``(B, L, C_t)`` token features (SOT at position 0,
            then the expression's tokens, then EOT).
        pad_mask (Tensor): ``(B, L)`` bool, True at the positions after EOT.
        sentence (Tensor): ``(B, C_s)`` sentence feature (the projected EOT
            feature).
    """
    words: Tensor
    pad_mask: Tensor
    sentence: Tensor


@dataclass
class Landmark:
    """Where CCR's landmark relation term found the landmark the sentence
    names.

    Attributes:
        word_weights (Tensor): ``(B, L)`` how the landmark pools the words
            (0 at padded positions).
        patch_weights (Tensor): ``(B, N)`` its map over the patches (sums
            to 1).
        position (Tensor): ``(B, 2)`` its expected position, (x, y) in
            [-1, 1] across the patch grid.
    """
    word_weights: Tensor
    patch_weights: Tensor
    position: Tensor


@dataclass
class Grounding:
    """Output of CCR: aligned representations and the grounding cue.

    Attributes:
        visual (Tensor): ``(B, D, h, w)`` aligned patches V'.
        words (Tensor): ``(B, L, D)`` aligned words W'.
        sentence (Tensor): ``(B, D)`` aligned sentence s'.
        pad_mask (Tensor): ``(B, L)`` bool, True at padded positions.
        cue_logits (Tensor): ``(B, 1, h, w)`` grounding cue G before the
            sigmoid: where the expression's target is.
        position (Tensor): ``(N, D)`` sine position embedding of the patch
            grid (row-major), shared by the stages that attend over it.
        patch_word_attn (tuple[Tensor]): one ``(B, N, L)`` map per CCR block,
            how much each patch reads each word (the attention that writes
            language into V'), averaged over heads; computed only when the
            structural loss asks for it in training, else empty.
        sentence_word_weights (Tensor, optional): ``(B, L)`` how much the
            refined sentence s' reads each word (the attention pooling
            that refines it); None without refinement blocks.
        landmark (Landmark, optional): where the landmark relation term
            found the landmark (its word pooling, patch map and position);
            None without that term.
        relation_logits (Tensor, optional): ``(B, 1, h, w)`` that term's
            part of ``cue_logits``; None without it.
    """
    visual: Tensor
    words: Tensor
    sentence: Tensor
    pad_mask: Tensor
    cue_logits: Tensor
    position: Tensor
    patch_word_attn: Tuple[Tensor, ...] = ()
    sentence_word_weights: Optional[Tensor] = None
    landmark: Optional[Landmark] = None
    relation_logits: Optional[Tensor] = None


@dataclass
class SAMPrompts:
    """Output of GPG: prompts for SAM, not yet encoded (the head encodes).

    Attributes:
        queries (Tensor, optional): ``(B, K, C)`` sparse prompt tokens.
        points (tuple[Tensor, Tensor], optional): point coordinates
            ``(B, P, 2)`` as (x, y) in normalised image coordinates (0..1,
            the image's left/top edge at 0) and their labels ``(B, P)`` (1
            positive, 0 negative).
        boxes (Tensor, optional): ``(B, 4)`` boxes (x0, y0, x1, y1) in
            normalised image coordinates (x1, y1 at the far pixel edge).
        dense (Tensor, optional): ``(B, C, h', w')`` dense residual added to
            SAM's no-mask embedding (any grid; the head resizes it).
        query_attn (tuple[Tensor]): one ``(B, K, N + L)`` map per decoder
            layer, how much each sparse query reads each entry of its memory
            ``[patches; words]``, averaged over heads; computed only when
            the structural loss asks for it in training, else empty.
    """
    queries: Optional[Tensor] = None
    points: Optional[Tuple[Tensor, Tensor]] = None
    boxes: Optional[Tensor] = None
    dense: Optional[Tensor] = None
    query_attn: Tuple[Tensor, ...] = ()


@dataclass
class GroundedImage:
    """What the SGSRF segmentor gives the SAM head as its ``inputs``.

    Attributes:
        image (Tensor): ``(B, 3, H, W)`` RGB images, 0..255.
        grounding (Grounding, optional): CCR output; drives the grounding
            adapters of SAM's image encoder.
        prompts (SAMPrompts, optional): GPG output.
    """
    image: Tensor
    grounding: Optional[Grounding] = None
    prompts: Optional[SAMPrompts] = None
