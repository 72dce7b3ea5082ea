"""CCR: Cross-modal Consistency Refinement of CLIP image and word features."""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS
from .attention import CrossAttention, FeedForward, sine_position_embedding


class CCRBlock(nn.Module):
    """One bidirectional cross-attention block with zero-init gates.

    Patches attend to words (padded words masked out) and words attend to
    patches, both from the block's input (in parallel); then one FFN per
    modality. Every residual branch is scaled by a per-channel gate that
    starts at ``gate_init`` (0: the block is the identity at
    initialisation)::

        v <- v + g1 * Attn(LN(v) + P, LN(w), LN(w))
        w <- w + g2 * Attn(LN(w), LN(v) + P, LN(v))
        v <- v + g3 * FFN(LN(v));  w <- w + g4 * FFN(LN(w))

    with ``P`` the fixed 2D sine position embedding of the patches.

    Args:
        dims (int): Token channels D.
        num_heads (int): Attention heads.
        ffn_ratio (float): FFN hidden width / D.
        dropout (float): Dropout in attention and FFNs.
        gate_init (float): Initial value of the residual gates.
    """

    def __init__(self, dims: int, num_heads: int, ffn_ratio: float,
                 dropout: float, gate_init: float):
        super().__init__()
        self.norm_v = nn.LayerNorm(dims)
        self.norm_w = nn.LayerNorm(dims)
        self.patch_to_word = CrossAttention(dims, num_heads, dropout)
        self.word_to_patch = CrossAttention(dims, num_heads, dropout)
        self.norm_ffn_v = nn.LayerNorm(dims)
        self.norm_ffn_w = nn.LayerNorm(dims)
        self.ffn_v = FeedForward(dims, ffn_ratio, dropout)
        self.ffn_w = FeedForward(dims, ffn_ratio, dropout)
        self.gates = nn.Parameter(torch.full((4, dims), float(gate_init)))

    def forward(self, v: Tensor, w: Tensor, pos: Tensor, pad_mask: Tensor,
                need_weights: bool) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Refine ``v`` (B, N, D) and ``w`` (B, L, D).

        Returns:
            tuple: refined ``v``, ``w`` and the head-averaged word->patch
            attention ``(B, L, N)`` (None unless ``need_weights``).
        """
        vn, wn = self.norm_v(v), self.norm_w(w)
        v_upd, _ = self.patch_to_word(
            vn + pos, wn, wn, key_padding_mask=pad_mask)
        w_upd, attn = self.word_to_patch(
            wn, vn + pos, vn, need_weights=need_weights)
        v = v + self.gates[0] * v_upd
        w = w + self.gates[1] * w_upd
        v = v + self.gates[2] * self.ffn_v(self.norm_ffn_v(v))
        w = w + self.gates[3] * self.ffn_w(self.norm_ffn_w(w))
        return v, w, attn


@MODELS.register_module()
class CrossModalConsistencyRefiner(BaseModule):
    """Cross-modal Consistency Refinement (CCR) neck of SGSRF.

    Projections (the "CCR off" output when ``num_blocks=0``):

    * patches: ``V0 = LN(sum_l Linear_l(LN_l(X_l)))`` over the chosen CLIP
      levels ``X_l`` (resized to the first level's grid if they differ);
    * words: ``W0 = LN(Linear(LN(F_words)))``;
    * sentence: ``s0 = LN(Linear(LN(f_sent)))``.

    Refinement: ``num_blocks`` :class:`CCRBlock` s of bidirectional
    cross-attention with zero-init gated residuals give ``V'`` and ``W'``
    (equal to ``V0``, ``W0`` at initialisation). The sentence is refined
    from the refined words by attention pooling with ``s0`` as the query::

        a = softmax_l(s0 . W'_l / sqrt(D))   (padded words excluded)
        s' = s0 + g_s * Linear(LN(sum_l a_l W'_l))     (g_s zero-init)

    Grounding cue: ``G = tau * cos(V', s') + b`` per patch (learnable
    ``tau``, ``b``).

    Word->patch attention ``A`` (B, L, h*w): the head-averaged attention of
    the words over the patches in the last block, computed explicitly there
    (all other attention runs through ``F.scaled_dot_product_attention``).
    With ``num_blocks=0`` it is ``softmax_patches(W0 . V0^T / sqrt(D))`` so
    that the structural loss still has a map to act on. Rows of padded
    words are zero.

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
        gate_init (float): Initial value of all residual gates.
            Defaults to 0.
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
                 gate_init: float = 0.0,
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
        self.blocks = nn.ModuleList(
            CCRBlock(embed_dims, num_heads, ffn_ratio, dropout, gate_init)
            for _ in range(num_blocks))
        if num_blocks > 0:
            self.sentence_refine = nn.Sequential(
                nn.LayerNorm(embed_dims), nn.Linear(embed_dims, embed_dims))
            self.sentence_gate = nn.Parameter(
                torch.full((embed_dims, ), float(gate_init)))
        self.cue_scale = nn.Parameter(torch.tensor(float(cue_scale_init)))
        self.cue_bias = nn.Parameter(torch.tensor(float(cue_bias_init)))

    def project(self, visual_feats: List[Tensor],
                text: Dict[str, Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """Project both modalities to D.

        Args:
            visual_feats (list[Tensor]): ``(B, C_l, h, w)`` per level.
            text (dict): ``word_feats`` (B, L, C_t) and ``sentence``
                (B, C_s) from the text tower.

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
        w = self.word_proj(text['word_feats'])
        s = self.sentence_proj(text['sentence'])
        return v, w, s

    def forward(self, visual_feats: List[Tensor],
                text: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Refine and ground.

        Args:
            visual_feats (list[Tensor]): ``(B, C_l, h, w)`` per CLIP level.
            text (dict): Text tower output with ``word_feats`` (B, L, C_t),
                ``pad_mask`` (B, L) bool (True = padding) and ``sentence``
                (B, C_s).

        Returns:
            dict[str, Tensor]: ``visual`` (B, D, h, w), ``words`` (B, L, D),
            ``sentence`` (B, D), ``word_attn`` (B, L, h*w), ``cue_logits``
            (B, 1, h, w) and ``pad_mask`` (B, L).
        """
        h, w_ = visual_feats[0].shape[-2:]
        pad_mask = text['pad_mask']
        v, w, s = self.project(visual_feats, text)
        if self.num_blocks == 0:
            attn = (w @ v.transpose(1, 2) /
                    math.sqrt(self.embed_dims)).softmax(dim=-1)
        else:
            pos = sine_position_embedding(h, w_, self.embed_dims,
                                          v.device).to(v.dtype)
            for i, block in enumerate(self.blocks):
                v, w, attn = block(v, w, pos, pad_mask,
                                   i == self.num_blocks - 1)
            s = s + self.sentence_gate * self.sentence_refine(
                self._pool_words(w, s, pad_mask))
        attn = attn.masked_fill(pad_mask[..., None], 0.0)
        cos = F.normalize(v, dim=-1) @ F.normalize(s, dim=-1)[..., None]
        cue = self.cue_scale * cos + self.cue_bias
        b = v.shape[0]
        return dict(
            visual=v.transpose(1, 2).reshape(b, -1, h, w_),
            words=w,
            sentence=s,
            word_attn=attn,
            cue_logits=cue.transpose(1, 2).reshape(b, 1, h, w_),
            pad_mask=pad_mask)

    def _pool_words(self, w: Tensor, s: Tensor, pad_mask: Tensor) -> Tensor:
        """Attention-pool the words with the sentence as query."""
        logits = (w @ s[..., None]).squeeze(-1) / math.sqrt(self.embed_dims)
        weights = logits.masked_fill(pad_mask, float('-inf')).softmax(-1)
        return (weights[..., None] * w).sum(dim=1)
