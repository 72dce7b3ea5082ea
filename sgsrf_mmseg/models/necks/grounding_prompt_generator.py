"""GPG: Grounding-aware Prompt Generation for SAM."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.stage_outputs import Grounding, SAMPrompts
from .attention import CrossAttention, FeedForward


class PromptQueryLayer(nn.Module):
    """Pre-norm decoder layer: query self-attention, cross-attention to the
    grounded memory, FFN.

    Args:
        dims (int): Token channels.
        num_heads (int): Attention heads.
        ffn_ratio (float): FFN hidden width / ``dims``.
        dropout (float): Dropout.
    """

    def __init__(self, dims: int, num_heads: int, ffn_ratio: float,
                 dropout: float):
        super().__init__()
        self.norm_self = nn.LayerNorm(dims)
        self.self_attn = CrossAttention(dims, num_heads, dropout)
        self.norm_cross = nn.LayerNorm(dims)
        self.norm_memory = nn.LayerNorm(dims)
        self.cross_attn = CrossAttention(dims, num_heads, dropout)
        self.norm_ffn = nn.LayerNorm(dims)
        self.ffn = FeedForward(dims, ffn_ratio, dropout)

    def forward(self, q: Tensor, memory: Tensor, memory_scale: Tensor,
                memory_pos: Tensor, memory_mask: Tensor,
                need_weights: bool) -> Tuple[Tensor, Optional[Tensor]]:
        """Update queries ``q`` (B, K, D) from ``memory`` (B, M, D).

        ``memory_scale`` (B, M) multiplies each memory token after its
        LayerNorm (which would otherwise erase a scaling of the token).

        Returns:
            tuple: the queries and, with ``need_weights``, their
            head-averaged attention over the memory ``(B, K, M)``.
        """
        qn = self.norm_self(q)
        q = q + self.self_attn(qn, qn, qn)[0]
        mem = self.norm_memory(memory) * memory_scale[..., None]
        update, attn = self.cross_attn(
            self.norm_cross(q),
            mem + memory_pos,
            mem,
            key_padding_mask=memory_mask,
            need_weights=need_weights)
        q = q + update
        return q + self.ffn(self.norm_ffn(q)), attn


@MODELS.register_module()
class GroundingPromptGenerator(BaseModule):
    """Grounding-aware Prompt Generation (GPG) neck of SGSRF.

    Turns the grounding (CCR's output) into prompts for SAM, raw: SAM's
    head encodes them (:class:`SAMPrompts`). The patches enter weighted by
    the cue as ``V' * (1 + sigmoid(G))``: the grounded region is stressed,
    and nothing is erased where the cue is low.

    * Sparse (``use_sparse``): ``K`` learnable queries ``e_k``, each
      conditioned on the sentence (``q_k = e_k + s'``), pass ``num_layers``
      decoder layers (self-attention, cross-attention, FFN) over the memory
      ``[LN(V') * (1 + sigmoid(G)) + P ; LN(W')]`` (the stress applied after
      the memory's LayerNorm, which would erase it; sine positions ``P``
      and a modality embedding; padded words masked), then
      ``Linear(LN(q))`` to ``prompt_dims``: ``queries`` (B, K,
      prompt_dims).
    * Points (``use_points``): positive points at the centres of the
      ``num_points`` highest cells of ``G``; box (``use_box``): the extent of
      ``sigmoid(G) > box_threshold`` (the top cell when nothing passes).
      Both in normalised image coordinates (0..1).
    * Dense (``use_dense``): ``Conv1x1(GELU(GN(Conv3x3(V' * (1 +
      sigmoid(G))))))`` on the patch grid, a residual the head adds to
      SAM's no-mask embedding; the last conv is zero-init, so at
      initialisation SAM sees its own no-mask embedding.

    Args:
        embed_dims (int): CCR width D. Defaults to 256.
        prompt_dims (int): SAM prompt width. Defaults to 256.
        num_queries (int): Learnable sparse queries K. Defaults to 4.
        num_layers (int): Decoder layers of the sparse branch. Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_ratio (float): FFN hidden width / D. Defaults to 4.
        dropout (float): Dropout. Defaults to 0.
        use_sparse (bool): Make query tokens. Defaults to True.
        use_dense (bool): Make the dense prompt. Defaults to True.
        use_points (bool): Add point prompts at the peaks of G.
            Defaults to False.
        num_points (int): Point prompts per image. Defaults to 1.
        use_box (bool): Add a box prompt from G. Defaults to False.
        box_threshold (float): Probability above which a cell of
            ``sigmoid(G)`` belongs to the box. Defaults to 0.5.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int = 256,
                 prompt_dims: int = 256,
                 num_queries: int = 4,
                 num_layers: int = 2,
                 num_heads: int = 8,
                 ffn_ratio: float = 4.0,
                 dropout: float = 0.0,
                 use_sparse: bool = True,
                 use_dense: bool = True,
                 use_points: bool = False,
                 num_points: int = 1,
                 use_box: bool = False,
                 box_threshold: float = 0.5,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.prompt_dims = prompt_dims
        self.use_sparse = use_sparse
        self.use_dense = use_dense
        self.use_points = use_points
        self.num_points = num_points
        self.use_box = use_box
        self.box_threshold = box_threshold
        if use_sparse:
            self.queries = nn.Embedding(num_queries, embed_dims)
            self.modality_embed = nn.Embedding(2, embed_dims)
            self.layers = nn.ModuleList(
                PromptQueryLayer(embed_dims, num_heads, ffn_ratio, dropout)
                for _ in range(num_layers))
            self.sparse_out = nn.Sequential(
                nn.LayerNorm(embed_dims), nn.Linear(embed_dims, prompt_dims))
        if use_dense:
            self.dense_conv = nn.Sequential(
                nn.Conv2d(embed_dims, embed_dims, 3, padding=1),
                nn.GroupNorm(1, embed_dims), nn.GELU(),
                nn.Conv2d(embed_dims, prompt_dims, 1))
            nn.init.zeros_(self.dense_conv[-1].weight)
            nn.init.zeros_(self.dense_conv[-1].bias)

    def forward(self,
                grounding: Grounding,
                need_query_attn: bool = False) -> SAMPrompts:
        """Make the prompts.

        Args:
            grounding (Grounding): CCR's output.
            need_query_attn (bool): Return the sparse queries' attention
                over the memory, layer by layer (for the structural loss).
                Defaults to False.

        Returns:
            SAMPrompts: the enabled prompts (the others None).
        """
        visual, cue = grounding.visual, grounding.cue_logits
        stressed = visual * (1 + cue.sigmoid())
        queries, query_attn = None, ()
        if self.use_sparse:
            queries, query_attn = self._decode_queries(grounding,
                                                       need_query_attn)
        return SAMPrompts(
            queries=queries,
            points=self._peak_points(cue) if self.use_points else None,
            boxes=self._cue_box(cue) if self.use_box else None,
            dense=self.dense_conv(stressed) if self.use_dense else None,
            query_attn=query_attn)

    def _decode_queries(self, grounding: Grounding,
                        need_attn: bool) -> Tuple[Tensor, Tuple[Tensor, ...]]:
        """Decode the sentence-conditioned queries against the memory;
        their attention maps per layer when asked."""
        b, d, h, w = grounding.visual.shape
        words, pad_mask = grounding.words, grounding.pad_mask
        memory = torch.cat(
            [grounding.visual.flatten(2).transpose(1, 2), words], dim=1)
        memory_scale = torch.cat([
            1 + grounding.cue_logits.flatten(1).sigmoid(),
            words.new_ones(words.shape[:2])
        ],
                                 dim=1)
        patch_pos = grounding.position + self.modality_embed.weight[0]
        word_pos = self.modality_embed.weight[1].expand(words.shape[1], -1)
        memory_pos = torch.cat([patch_pos, word_pos], dim=0)[None]
        memory_mask = torch.cat([pad_mask.new_zeros(b, h * w), pad_mask],
                                dim=1)
        q = self.queries.weight[None] + grounding.sentence[:, None]
        attn_maps = []
        for layer in self.layers:
            q, attn = layer(q, memory, memory_scale, memory_pos, memory_mask,
                            need_attn)
            if attn is not None:
                attn_maps.append(attn)
        return self.sparse_out(q), tuple(attn_maps)

    def _peak_points(self, cue: Tensor) -> Tuple[Tensor, Tensor]:
        """Positive points at the ``num_points`` highest cells of ``cue``."""
        b, _, h, w = cue.shape
        idx = cue.detach().flatten(1).topk(self.num_points, dim=1).indices
        rows, cols = idx // w, idx % w
        coords = torch.stack([(cols.float() + 0.5) / w,
                              (rows.float() + 0.5) / h],
                             dim=-1)
        labels = torch.ones(b, self.num_points, device=cue.device)
        return coords, labels

    def _cue_box(self, cue: Tensor) -> Tensor:
        """``(B, 4)`` xyxy box around ``sigmoid(cue) > box_threshold``."""
        b, _, h, w = cue.shape
        cue = cue.detach()[:, 0]
        inside = cue.sigmoid() > self.box_threshold
        peak = cue.flatten(1).argmax(dim=1)
        fallback = torch.zeros_like(inside).flatten(1)
        fallback[torch.arange(b, device=cue.device), peak] = True
        empty = ~inside.flatten(1).any(dim=1)
        inside = torch.where(empty[:, None, None], fallback.view(b, h, w),
                             inside)
        rows, cols = inside.any(dim=2).int(), inside.any(dim=1).int()
        y0, x0 = rows.argmax(dim=1), cols.argmax(dim=1)
        y1 = h - rows.flip(1).argmax(dim=1)
        x1 = w - cols.flip(1).argmax(dim=1)
        return torch.stack([x0 / w, y0 / h, x1 / w, y1 / h], dim=1).float()
