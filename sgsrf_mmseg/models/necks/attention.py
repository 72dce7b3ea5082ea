"""Attention building blocks shared by the SGSRF necks (CCR and GPG)."""
import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def sine_position_embedding(height: int, width: int, dims: int,
                            device: torch.device) -> Tensor:
    """Fixed 2D sine/cosine position embedding of a ``height x width`` grid.

    Half of the channels encode the row, half the column (DETR style, with
    coordinates normalised to ``[0, 2*pi]``).

    Args:
        height (int): Grid rows.
        width (int): Grid columns.
        dims (int): Channels; must be divisible by 4.
        device (torch.device): Device of the result.

    Returns:
        Tensor: ``(height * width, dims)``, row-major over the grid.
    """
    if dims % 4 != 0:
        raise ValueError(f'position embedding dims must be divisible by 4, '
                         f'got {dims}')
    quarter = dims // 4
    freq = 10000.0**(-torch.arange(quarter, device=device) / quarter)
    ys = (torch.arange(height, device=device) + 0.5) / height * 2 * math.pi
    xs = (torch.arange(width, device=device) + 0.5) / width * 2 * math.pi
    y = ys[:, None] * freq[None]
    x = xs[:, None] * freq[None]
    y = torch.cat([y.sin(), y.cos()], dim=1)[:, None].expand(-1, width, -1)
    x = torch.cat([x.sin(), x.cos()], dim=1)[None].expand(height, -1, -1)
    return torch.cat([y, x], dim=2).reshape(height * width, dims)


def pool_words(words: Tensor, query: Tensor,
               pad_mask: Tensor) -> Tuple[Tensor, Tensor]:
    """Attention pooling of the words by one query per sample.

    Args:
        words (Tensor): ``(B, L, D)``.
        query (Tensor): ``(B, D)``.
        pad_mask (Tensor): ``(B, L)``, True at padded words (weight 0).

    Returns:
        tuple[Tensor, Tensor]: The pooled feature ``(B, D)`` and the weights
        ``softmax_l(words_l . query / sqrt(D))`` ``(B, L)``.
    """
    logits = (words @ query[..., None]).squeeze(-1) / math.sqrt(
        words.shape[-1])
    weights = logits.masked_fill(pad_mask, float('-inf')).softmax(-1)
    return (weights[..., None] * words).sum(dim=1), weights


class GridPositionCache(nn.Module):
    """:func:`sine_position_embedding` computed once per grid, then reused.

    Args:
        dims (int): Channels; must be divisible by 4.
    """

    def __init__(self, dims: int) -> None:
        super().__init__()
        if dims % 4 != 0:
            raise ValueError(f'position embedding dims must be divisible by '
                             f'4, got {dims}')
        self.dims = dims
        self._cache: Dict[tuple, Tensor] = {}

    def forward(self, height: int, width: int, like: Tensor) -> Tensor:
        """The ``(height * width, dims)`` embedding on ``like``'s device and
        dtype."""
        key = (height, width, like.device, like.dtype)
        if key not in self._cache:
            self._cache[key] = sine_position_embedding(
                height, width, self.dims, like.device).to(like.dtype)
        return self._cache[key]


class CrossAttention(nn.Module):
    """Multi-head attention of ``query`` tokens over ``key``/``value`` tokens.

    Runs through ``F.scaled_dot_product_attention`` unless the attention
    weights are asked for, in which case it is computed explicitly.

    Args:
        dims (int): Token channels.
        num_heads (int): Attention heads.
        dropout (float): Attention dropout. Defaults to 0.
    """

    def __init__(self, dims: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        if dims % num_heads != 0:
            raise ValueError(f'dims ({dims}) must be divisible by num_heads '
                             f'({num_heads})')
        self.num_heads = num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(dims, dims)
        self.k_proj = nn.Linear(dims, dims)
        self.v_proj = nn.Linear(dims, dims)
        self.out_proj = nn.Linear(dims, dims)

    def _split(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        return x.view(b, n, self.num_heads,
                      c // self.num_heads).transpose(1, 2)

    def forward(self,
                query: Tensor,
                key: Tensor,
                value: Tensor,
                key_padding_mask: Optional[Tensor] = None,
                need_weights: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
        """Attend.

        Args:
            query (Tensor): ``(B, Nq, C)`` (position already added).
            key (Tensor): ``(B, Nk, C)`` (position already added).
            value (Tensor): ``(B, Nk, C)``.
            key_padding_mask (Tensor, optional): ``(B, Nk)`` bool, True for
                keys to ignore. Defaults to None.
            need_weights (bool): Also return the attention weights averaged
                over heads. Defaults to False.

        Returns:
            tuple[Tensor, Tensor | None]: ``(B, Nq, C)`` output and
            ``(B, Nq, Nk)`` weights (None unless ``need_weights``).
        """
        q = self._split(self.q_proj(query))
        k = self._split(self.k_proj(key))
        v = self._split(self.v_proj(value))
        dropout = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            logits = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if key_padding_mask is not None:
                logits = logits.masked_fill(key_padding_mask[:, None, None],
                                            float('-inf'))
            attn = logits.softmax(dim=-1)
            weights = attn.mean(dim=1)
            out = F.dropout(attn, dropout, self.training) @ v
        else:
            mask = None
            if key_padding_mask is not None:
                mask = ~key_padding_mask[:, None, None]
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=dropout)
        out = out.transpose(1, 2).flatten(2)
        return self.out_proj(out), weights


class FeedForward(nn.Sequential):
    """Two-layer MLP with GELU (transformer FFN).

    Args:
        dims (int): Token channels.
        ratio (float): Hidden width as a multiple of ``dims``.
            Defaults to 4.
        dropout (float): Dropout after each layer. Defaults to 0.
    """

    def __init__(self, dims: int, ratio: float = 4.0, dropout: float = 0.0):
        hidden = int(dims * ratio)
        super().__init__(
            nn.Linear(dims, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, dims), nn.Dropout(dropout))
