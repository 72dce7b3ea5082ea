"""GPG: Grounding-aware Prompt Generation for SAM."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS
from .attention import CrossAttention, FeedForward, sine_position_embedding


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

    def forward(self, q: Tensor, memory: Tensor, memory_pos: Tensor,
                memory_mask: Tensor) -> Tensor:
        """Update queries ``q`` (B, K, D) from ``memory`` (B, M, D)."""
        qn = self.norm_self(q)
        q = q + self.self_attn(qn, qn, qn)[0]
        mem = self.norm_memory(memory)
        q = q + self.cross_attn(
            self.norm_cross(q), mem + memory_pos, mem,
            key_padding_mask=memory_mask)[0]
        return q + self.ffn(self.norm_ffn(q))


@MODELS.register_module()
class GroundingPromptGenerator(BaseModule):
    """Grounding-aware Prompt Generation (GPG) neck of SGSRF.

    Turns the CCR output into SAM prompts.

    * Sparse (``use_sparse``): ``K`` learnable queries ``e_k``, each
      conditioned on the sentence (``q_k = e_k + s'``), pass ``num_layers``
      decoder layers (self-attention, cross-attention, FFN) over the memory
      ``[V' * sigmoid(G) + P ; W']`` (patches weighted by the grounding cue,
      with sine positions ``P`` and a modality embedding; padded words
      masked), then ``Linear(LN(q))`` to ``prompt_dims``.
    * Points (``use_points``): positive points at the centres of the
      ``num_points`` highest cells of ``G``; box (``use_box``): the extent of
      ``sigmoid(G) > box_threshold`` (the top cell when nothing passes).
      Both in SAM's input pixel frame, encoded by SAM's own
      ``prompt_encoder`` and appended to the sparse tokens.
    * Dense (``use_dense``): ``no_mask_embed + Conv1x1(GELU(GN(Conv3x3(
      V' * sigmoid(G)))))`` resized to SAM's embedding grid; the last conv is
      zero-init, so at initialisation SAM sees its own no-mask embedding.

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

    def forward(self, ccr_out: Dict[str, Tensor], prompt_encoder: nn.Module,
                embedding_size: Tuple[int, int]) -> Dict[str, Optional[Tensor]]:
        """Make the prompts.

        Args:
            ccr_out (dict): CCR output (``visual``, ``words``, ``sentence``,
                ``cue_logits``, ``pad_mask``).
            prompt_encoder (nn.Module): SAM's ``PromptEncoder``.
            embedding_size (tuple[int, int]): SAM's image embedding grid.

        Returns:
            dict: ``sparse`` (B, K', prompt_dims) or None and ``dense``
            (B, prompt_dims, He, We) or None.
        """
        visual, cue = ccr_out['visual'], ccr_out['cue_logits']
        weighted = visual * cue.sigmoid()
        tokens = []
        if self.use_sparse:
            tokens.append(self._decode_queries(weighted, ccr_out))
        if self.use_points or self.use_box:
            points = self._peak_points(cue, prompt_encoder.input_image_size) \
                if self.use_points else None
            boxes = self._cue_box(cue, prompt_encoder.input_image_size) \
                if self.use_box else None
            sparse, _ = prompt_encoder(points=points, boxes=boxes, masks=None)
            tokens.append(sparse.to(visual.dtype))
        dense = None
        if self.use_dense:
            dense = F.interpolate(
                self.dense_conv(weighted),
                size=tuple(embedding_size),
                mode='bilinear',
                align_corners=False)
            dense = dense + prompt_encoder.no_mask_embed.weight.reshape(
                1, -1, 1, 1).to(dense.dtype)
        return dict(
            sparse=torch.cat(tokens, dim=1) if tokens else None, dense=dense)

    def _decode_queries(self, weighted: Tensor,
                        ccr_out: Dict[str, Tensor]) -> Tensor:
        """Decode the sentence-conditioned queries against the memory."""
        b, d, h, w = weighted.shape
        words, pad_mask = ccr_out['words'], ccr_out['pad_mask']
        patches = weighted.flatten(2).transpose(1, 2)
        memory = torch.cat([patches, words], dim=1)
        patch_pos = sine_position_embedding(h, w, d, weighted.device).to(
            weighted.dtype) + self.modality_embed.weight[0]
        word_pos = self.modality_embed.weight[1].expand(words.shape[1], -1)
        memory_pos = torch.cat([patch_pos, word_pos], dim=0)[None]
        memory_mask = torch.cat(
            [pad_mask.new_zeros(b, h * w), pad_mask], dim=1)
        q = self.queries.weight[None] + ccr_out['sentence'][:, None]
        for layer in self.layers:
            q = layer(q, memory, memory_pos, memory_mask)
        return self.sparse_out(q)

    def _peak_points(self, cue: Tensor, input_size: Tuple[int, int]
                     ) -> Tuple[Tensor, Tensor]:
        """Positive points at the ``num_points`` highest cells of ``cue``."""
        b, _, h, w = cue.shape
        idx = cue.detach().flatten(1).topk(self.num_points, dim=1).indices
        rows, cols = idx // w, idx % w
        scale_y, scale_x = input_size[0] / h, input_size[1] / w
        # SAM adds 0.5 to reach pixel centres.
        coords = torch.stack([(cols.float() + 0.5) * scale_x - 0.5,
                              (rows.float() + 0.5) * scale_y - 0.5], dim=-1)
        labels = torch.ones(b, self.num_points, device=cue.device)
        return coords, labels

    def _cue_box(self, cue: Tensor, input_size: Tuple[int, int]) -> Tensor:
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
        y1 = h - 1 - rows.flip(1).argmax(dim=1)
        x1 = w - 1 - cols.flip(1).argmax(dim=1)
        scale_y, scale_x = input_size[0] / h, input_size[1] / w
        return torch.stack([
            x0 * scale_x, y0 * scale_y, (x1 + 1) * scale_x - 1,
            (y1 + 1) * scale_y - 1
        ], dim=1).float()
