"""The region a grounding cue supports, shared by the loss and the metric.

The cue ``G`` (CCR's output) is a logit map on the image tower's patch
grid. Its *region* is the set of cells where ``sigmoid(G) > 0.5``, together
with the peak cell (so that a cue that is low everywhere still points
somewhere). The structural term of GMS keeps the mask inside this region
during training; the metric measures the share of a predicted mask outside
it (drift) and whether the peak falls on the target (pointing).
"""
import torch
from torch import Tensor


def peak_cells(cue_logits: Tensor) -> Tensor:
    """Where each map reaches its maximum.

    Args:
        cue_logits (Tensor): ``(..., h, w)`` cue logits.

    Returns:
        Tensor: bool, same shape, True at the maximum of each ``h x w``
        map (ties all count).
    """
    flat = cue_logits.flatten(-2)
    peak = flat == flat.max(dim=-1, keepdim=True).values
    return peak.view_as(cue_logits)


def cue_region(cue_logits: Tensor) -> Tensor:
    """Cells the cue supports: ``sigmoid(G) > 0.5`` or the peak cell.

    Args:
        cue_logits (Tensor): ``(..., h, w)`` cue logits.

    Returns:
        Tensor: bool, same shape.
    """
    cue_logits = cue_logits.detach()
    return (cue_logits > 0) | peak_cells(cue_logits)


def upsample_cells(cells: Tensor, size) -> Tensor:
    """Each cell repeated over its footprint (nearest) at ``size``.

    Args:
        cells (Tensor): ``(B, C, h, w)`` (any dtype).
        size (tuple[int, int]): Output ``(H, W)``.

    Returns:
        Tensor: ``(B, C, H, W)`` of the input's dtype.
    """
    out = torch.nn.functional.interpolate(
        cells.float(), size=tuple(size), mode='nearest')
    return out.to(cells.dtype)
