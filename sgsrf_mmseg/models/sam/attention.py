"""SAM image-encoder attention through ``scaled_dot_product_attention``."""
import torch
import torch.nn.functional as F
from segment_anything.modeling.image_encoder import (Attention,
                                                     ImageEncoderViT,
                                                     get_rel_pos)


class SDPARelPosAttention(Attention):
    """segment_anything's ``Attention`` through SDPA.

    The decomposed relative-position bias of SAM (MViTv2),
    ``bias[q, k] = q . Rh[q_h, k_h] + q . Rw[q_w, k_w]`` with the unscaled
    query, is built per head and passed as ``attn_mask``, so the result
    equals ``softmax(q k^T / sqrt(d) + bias) v`` of the original while the
    fused kernels avoid keeping the softmax matrix for backward. Parameter
    names (``qkv``, ``proj``, ``rel_pos_h``, ``rel_pos_w``) are unchanged.
    """

    @classmethod
    def from_attention(cls, attn: Attention) -> 'SDPARelPosAttention':
        """Build an instance holding the parameters of ``attn``.

        Args:
            attn (Attention): segment_anything attention module.

        Returns:
            SDPARelPosAttention: A module with a copy of ``attn``'s tensors.
        """
        input_size = None
        if attn.use_rel_pos:
            input_size = ((attn.rel_pos_h.shape[0] + 1) // 2,
                          (attn.rel_pos_w.shape[0] + 1) // 2)
        new = cls(
            attn.qkv.in_features,
            num_heads=attn.num_heads,
            qkv_bias=attn.qkv.bias is not None,
            use_rel_pos=attn.use_rel_pos,
            input_size=input_size)
        new.load_state_dict(attn.state_dict())
        return new

    def rel_pos_bias(self, q: torch.Tensor, hw: tuple) -> torch.Tensor:
        """Decomposed relative-position bias.

        Args:
            q (Tensor): Queries, (B, heads, H*W, head_dim), unscaled.
            hw (tuple[int, int]): Token grid (H, W).

        Returns:
            Tensor: Bias of shape (B, heads, H*W, H*W), ``q``'s dtype.
        """
        h, w = hw
        rh = get_rel_pos(h, h, self.rel_pos_h).to(q.dtype)
        rw = get_rel_pos(w, w, self.rel_pos_w).to(q.dtype)
        b, n_heads, _, dim = q.shape
        grid_q = q.reshape(b, n_heads, h, w, dim)
        rel_h = torch.einsum('bnhwc,hkc->bnhwk', grid_q, rh)
        rel_w = torch.einsum('bnhwc,wkc->bnhwk', grid_q, rw)
        bias = rel_h[..., :, None] + rel_w[..., None, :]
        return bias.reshape(b, n_heads, h * w, h * w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend over the (B, H, W, C) token grid."""
        b, h, w, _ = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        bias = self.rel_pos_bias(q, (h, w)) if self.use_rel_pos else None
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        out = out.transpose(1, 2).reshape(b, h, w, -1)
        return self.proj(out)


def use_sdpa_attention(image_encoder: ImageEncoderViT) -> ImageEncoderViT:
    """Swap every block's attention for :class:`SDPARelPosAttention` in place.

    State-dict names and tensors are unchanged.

    Args:
        image_encoder (ImageEncoderViT): SAM image encoder.

    Returns:
        ImageEncoderViT: The same encoder.
    """
    for block in image_encoder.blocks:
        if not isinstance(block.attn, SDPARelPosAttention):
            block.attn = SDPARelPosAttention.from_attention(block.attn)
    return image_encoder
