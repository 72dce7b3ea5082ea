"""CCR: Cross-modal Consistency Refinement of CLIP image and word features."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.stage_outputs import Grounding, TextFeatures
from .attention import (CrossAttention, FeedForward, GridPositionCache,
                        pool_words)
from .landmark_relation_prior import LandmarkRelationPrior


class CCRBlock(nn.Module):
    """One refinement block: words read each other, then the two modalities
    read each other, (optionally) the patches read each other, then one FFN
    per modality.

    Every residual branch is scaled by a per-channel gate that starts at
    ``gate_init``::

        w <- w + g0 * Attn(LN(w), LN(w), LN(w))          (word self-attention)
        v <- v + g1 * Attn(LN(v) + P, LN(w), LN(w))      (patches read words)
        w <- w + g2 * Attn(LN(w), LN(v) + P, LN(v))      (words read patches)
        v <- v + gp * Attn(LN(v) + P, LN(v) + P, LN(v))  (patches read patches)
        v <- v + g3 * FFN(LN(v));  w <- w + g4 * FFN(LN(w))

    with ``P`` the fixed 2D sine position embedding of the patches and padded
    words masked out as keys. The word self-attention is not causal, so a
    noun sees the modifiers that follow it ("the car *on the left*"), which
    CLIP's causal text tower cannot. The patch self-attention runs after the
    patches have read the words, so a patch can see where the other objects
    the expression names lie ("the car *next to the green pond*"): without
    it each patch is scored on its own, and two objects of the same colour
    and kind look the same to the cue.

    Args:
        dims (int): Token channels D.
        num_heads (int): Attention heads.
        ffn_ratio (float): FFN hidden width / D.
        dropout (float): Dropout in attention and FFNs.
        gate_init (float): Initial value of the residual gates.
        word_self_attn (bool): Use the word self-attention branch.
        patch_self_attn (bool): Use the patch self-attention branch.
            Defaults to False.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int,
                 ffn_ratio: float,
                 dropout: float,
                 gate_init: float,
                 word_self_attn: bool,
                 patch_self_attn: bool = False):
        super().__init__()
        self.word_self_attn = word_self_attn
        if word_self_attn:
            self.norm_self = nn.LayerNorm(dims)
            self.word_to_word = CrossAttention(dims, num_heads, dropout)
        self.patch_self_attn = patch_self_attn
        if patch_self_attn:
            self.norm_patch_self = nn.LayerNorm(dims)
            self.patch_to_patch = CrossAttention(dims, num_heads, dropout)
            self.patch_self_gate = nn.Parameter(
                torch.full((dims, ), float(gate_init)))
        self.norm_v = nn.LayerNorm(dims)
        self.norm_w = nn.LayerNorm(dims)
        self.patch_to_word = CrossAttention(dims, num_heads, dropout)
        self.word_to_patch = CrossAttention(dims, num_heads, dropout)
        self.norm_ffn_v = nn.LayerNorm(dims)
        self.norm_ffn_w = nn.LayerNorm(dims)
        self.ffn_v = FeedForward(dims, ffn_ratio, dropout)
        self.ffn_w = FeedForward(dims, ffn_ratio, dropout)
        self.gates = nn.Parameter(torch.full((5, dims), float(gate_init)))

    def forward(self, v: Tensor, w: Tensor, pos: Tensor, pad_mask: Tensor,
                need_weights: bool) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Refine ``v`` (B, N, D) and ``w`` (B, L, D).

        Returns:
            tuple: refined ``v``, ``w`` and the head-averaged patch->word
            attention ``(B, N, L)`` (None unless ``need_weights``).
        """
        if self.word_self_attn:
            wn = self.norm_self(w)
            w = w + self.gates[0] * self.word_to_word(
                wn, wn, wn, key_padding_mask=pad_mask)[0]
        vn, wn = self.norm_v(v), self.norm_w(w)
        v_upd, attn = self.patch_to_word(
            vn + pos,
            wn,
            wn,
            key_padding_mask=pad_mask,
            need_weights=need_weights)
        w_upd, _ = self.word_to_patch(wn, vn + pos, vn)
        v = v + self.gates[1] * v_upd
        w = w + self.gates[2] * w_upd
        if self.patch_self_attn:
            vn = self.norm_patch_self(v)
            v = v + self.patch_self_gate * self.patch_to_patch(
                vn + pos, vn + pos, vn)[0]
        v = v + self.gates[3] * self.ffn_v(self.norm_ffn_v(v))
        w = w + self.gates[4] * self.ffn_w(self.norm_ffn_w(w))
        return v, w, attn


@MODELS.register_module()
class CrossModalConsistencyRefiner(BaseModule):
    """Cross-modal Consistency Refinement (CCR) neck of SGSRF.

    Projections (the output when ``num_blocks=0``):

    * patches: ``V0 = LN(sum_l Linear_l(LN_l(X_l)))`` over the chosen CLIP
      levels ``X_l`` (resized to the first level's grid if they differ);
    * words: ``W0 = LN(Linear(LN(F_words)))``;
    * sentence: ``s0 = LN(Linear(LN(f_sent)))``.

    Refinement: ``num_blocks`` :class:`CCRBlock` s (word self-attention,
    bidirectional cross-attention, FFNs, gated residuals) give ``V'`` and
    ``W'``. The sentence is refined from the refined words by attention
    pooling with ``s0`` as the query::

        a = softmax_l(s0 . W'_l / sqrt(D))   (padded words excluded)
        s' = s0 + g_s * Linear(LN(sum_l a_l W'_l))

    Grounding cue: ``G = tau * cos(V', s') + b`` per patch (learnable
    ``tau``, ``b``). With ``position_prior`` the sentence also places the
    cue directly: ``G_i += (A s') . P_i`` with ``P`` the patches' sine
    position embedding and ``A`` a linear map, zero at initialisation, so
    that words like "left" or "at the top" can move the cue to a side of
    the image, which tells apart two objects of the same colour and kind.
    With ``relation_prior`` the cue also gets a term of each patch's offset
    from the landmark the sentence names (:class:`LandmarkRelationPrior`,
    zero at initialisation), for "left of", "above", "next to".

    With ``need_patch_word_attn`` (the structural loss asks for it in
    training) each block also returns its head-averaged patch->word
    attention, computed explicitly; otherwise every attention runs through
    ``F.scaled_dot_product_attention`` and inference pays nothing for it.

    Args:
        visual_channels (int | Sequence[int]): Channels of each CLIP level.
        text_channels (int): Channels of the word features.
        sentence_channels (int): Channels of the sentence feature.
        embed_dims (int): Common width D. Defaults to 256.
        num_blocks (int): Refinement blocks; 0 disables refinement.
            Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_ratio (float): FFN hidden width / D. Defaults to 4.
        dropout (float): Dropout in the blocks. Defaults to 0.
        gate_init (float): Initial value of all residual gates. Non-zero
            lets the expression shape V' (and so G, the prompts and SAM)
            from the first step. Defaults to 0.1.
        word_self_attn (bool): Word self-attention in each block.
            Defaults to True.
        patch_self_attn (bool): Patch self-attention in each block, after
            the patches read the words (see :class:`CCRBlock`). Defaults to
            False.
        position_prior (bool): Add the sentence's position prior to the
            cue (see above). Defaults to False.
        relation_prior (bool | dict): Add the landmark relation term to the
            cue (see above); a dict also gives its options (``frequencies``,
            ``radial_widths``, ``over_map``, ``locate_on``, ``joint``, ...).
            Defaults to False.
        cue_scale_init (float): Initial ``tau``. Defaults to 10.
        cue_bias_init (float): Initial ``b``. Defaults to 0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 visual_channels: Union[int, Sequence[int]],
                 text_channels: int,
                 sentence_channels: int,
                 embed_dims: int = 256,
                 num_blocks: int = 2,
                 num_heads: int = 8,
                 ffn_ratio: float = 4.0,
                 dropout: float = 0.0,
                 gate_init: float = 0.1,
                 word_self_attn: bool = True,
                 patch_self_attn: bool = False,
                 position_prior: bool = False,
                 relation_prior: Union[bool, dict] = False,
                 cue_scale_init: float = 10.0,
                 cue_bias_init: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(visual_channels, int):
            visual_channels = [visual_channels]
        if num_blocks < 0:
            raise ValueError(f'num_blocks must be >= 0, got {num_blocks}')
        self.embed_dims = embed_dims
        self.num_blocks = num_blocks
        self.visual_in = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(c), nn.Linear(c, embed_dims))
            for c in visual_channels)
        self.visual_norm = nn.LayerNorm(embed_dims)
        self.word_proj = nn.Sequential(
            nn.LayerNorm(text_channels), nn.Linear(text_channels, embed_dims),
            nn.LayerNorm(embed_dims))
        self.sentence_proj = nn.Sequential(
            nn.LayerNorm(sentence_channels),
            nn.Linear(sentence_channels, embed_dims), nn.LayerNorm(embed_dims))
        self.position = GridPositionCache(embed_dims)
        self.blocks = nn.ModuleList(
            CCRBlock(embed_dims, num_heads, ffn_ratio, dropout, gate_init,
                     word_self_attn, patch_self_attn)
            for _ in range(num_blocks))
        if num_blocks > 0:
            self.sentence_refine = nn.Sequential(
                nn.LayerNorm(embed_dims), nn.Linear(embed_dims, embed_dims))
            self.sentence_gate = nn.Parameter(
                torch.full((embed_dims, ), float(gate_init)))
        self.position_prior = None
        if position_prior:
            self.position_prior = nn.Linear(embed_dims, embed_dims)
            nn.init.zeros_(self.position_prior.weight)
            nn.init.zeros_(self.position_prior.bias)
        self.relation_prior = None
        if relation_prior:
            options = relation_prior if isinstance(relation_prior,
                                                   dict) else {}
            self.relation_prior = LandmarkRelationPrior(embed_dims, **options)
        self.cue_scale = nn.Parameter(torch.tensor(float(cue_scale_init)))
        self.cue_bias = nn.Parameter(torch.tensor(float(cue_bias_init)))

    def project(self, visual_feats: List[Tensor],
                text: TextFeatures) -> Tuple[Tensor, Tensor, Tensor]:
        """Project both modalities to D.

        Args:
            visual_feats (list[Tensor]): ``(B, C_l, h, w)`` per level.
            text (TextFeatures): The text tower's output.

        Returns:
            tuple[Tensor]: ``V0`` (B, h*w, D), ``W0`` (B, L, D), ``s0``
            (B, D).
        """
        if len(visual_feats) != len(self.visual_in):
            raise ValueError(
                f'CrossModalConsistencyRefiner got {len(visual_feats)} '
                f'visual levels but visual_channels lists '
                f'{len(self.visual_in)}')
        size = visual_feats[0].shape[-2:]
        v = 0
        for feat, proj in zip(visual_feats, self.visual_in):
            if feat.shape[-2:] != size:
                feat = F.interpolate(
                    feat, size=size, mode='bilinear', align_corners=False)
            v = v + proj(feat.flatten(2).transpose(1, 2))
        v = self.visual_norm(v)
        return v, self.word_proj(text.words), self.sentence_proj(text.sentence)

    def forward(self,
                visual_feats: List[Tensor],
                text: TextFeatures,
                need_patch_word_attn: bool = False) -> Grounding:
        """Refine and ground.

        Args:
            visual_feats (list[Tensor]): ``(B, C_l, h, w)`` per CLIP level.
            text (TextFeatures): The text tower's output.
            need_patch_word_attn (bool): Return each block's patch->word
                attention. Defaults to False.

        Returns:
            Grounding: V', W', s', the cue G and the shared position
            embedding (and the attention maps when asked).
        """
        h, w_ = visual_feats[0].shape[-2:]
        pad_mask = text.pad_mask
        v, w, s = self.project(visual_feats, text)
        projected = v, w
        pos = self.position(h, w_, v)
        attn_maps = []
        for block in self.blocks:
            v, w, attn = block(v, w, pos, pad_mask, need_patch_word_attn)
            if attn is not None:
                attn_maps.append(attn)
        word_weights = None
        if self.num_blocks > 0:
            pooled, word_weights = pool_words(w, s, pad_mask)
            s = s + self.sentence_gate * self.sentence_refine(pooled)
        cos = F.normalize(v, dim=-1) @ F.normalize(s, dim=-1)[..., None]
        cue = self.cue_scale * cos + self.cue_bias
        if self.position_prior is not None:
            cue = cue + (self.position_prior(s) @ pos.T)[..., None]
        b = v.shape[0]
        landmark = relation_logits = None
        if self.relation_prior is not None:
            relation, landmark = self.relation_prior(v, w, s, pad_mask, h, w_,
                                                     projected, cue[..., 0])
            cue = cue + relation[..., None]
            relation_logits = relation.reshape(b, 1, h, w_)
        return Grounding(
            visual=v.transpose(1, 2).reshape(b, -1, h, w_),
            words=w,
            sentence=s,
            pad_mask=pad_mask,
            cue_logits=cue.transpose(1, 2).reshape(b, 1, h, w_),
            position=pos,
            patch_word_attn=tuple(attn_maps),
            sentence_word_weights=word_weights,
            landmark=landmark,
            relation_logits=relation_logits)
