"""Coordinates of the cells of a patch grid."""
import torch
from torch import Tensor


def cell_centres(height: int, width: int, like: Tensor) -> Tensor:
    """``(h * w, 2)`` centres (x, y) of a grid's cells in [0, 1], row-major,
    on ``like``'s device and dtype."""
    ys = (torch.arange(height, device=like.device) + 0.5) / height
    xs = (torch.arange(width, device=like.device) + 0.5) / width
    return torch.stack(
        torch.meshgrid(xs, ys, indexing='xy'),
        dim=-1).reshape(-1, 2).to(like.dtype)
