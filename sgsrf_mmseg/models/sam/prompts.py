"""GPG's raw prompts through SAM's own prompt encoder."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from segment_anything.modeling import PromptEncoder

from ..utils.stage_outputs import SAMPrompts


def encode_prompts(prompt_encoder: PromptEncoder,
                   prompts: Optional[SAMPrompts], embedding: torch.Tensor,
                   input_size: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sparse and dense prompt embeddings for SAM's mask decoder.

    Sparse: the query tokens, then the points and boxes encoded by SAM's
    prompt encoder (normalised coordinates scaled to SAM's square input
    frame; SAM adds half a pixel to point coordinates, so it is taken off
    here, and a box's far edge is the last pixel). Dense: SAM's
    ``no_mask_embed`` plus the dense residual resized to the embedding
    grid, added once.

    Args:
        prompt_encoder (PromptEncoder): SAM's prompt encoder.
        prompts (SAMPrompts, optional): GPG's output; None gives no sparse
            prompt and the plain no-mask embedding.
        embedding (Tensor): The image embedding ``(B, C, He, We)``.
        input_size (int): Side of SAM's square input.

    Returns:
        tuple[Tensor, Tensor]: ``(B, K, C)`` and ``(B, C, He, We)``.
    """
    b, c, he, we = embedding.shape
    sparse = [embedding.new_zeros((b, 0, c))]
    dense = prompt_encoder.no_mask_embed.weight.reshape(1, c, 1, 1).expand(
        b, c, he, we)
    if prompts is None:
        return sparse[0], dense
    if prompts.queries is not None:
        if tuple(prompts.queries.shape[::2]) != (b, c):
            raise ValueError(f'prompts.queries must be ({b}, K, {c}), got '
                             f'{tuple(prompts.queries.shape)}')
        sparse.append(prompts.queries)
    if prompts.points is not None or prompts.boxes is not None:
        size = embedding.new_tensor([input_size, input_size])
        points = None if prompts.points is None else (
            prompts.points[0] * size - 0.5, prompts.points[1])
        boxes = None if prompts.boxes is None else (
            prompts.boxes * size.repeat(2) - size.new_tensor([0, 0, 1, 1]))
        encoded, _ = prompt_encoder(points=points, boxes=boxes, masks=None)
        sparse.append(encoded.to(embedding.dtype))
    if prompts.dense is not None:
        dense = dense + F.interpolate(
            prompts.dense, size=(he, we), mode='bilinear', align_corners=False)
    return torch.cat(sparse, dim=1), dense
