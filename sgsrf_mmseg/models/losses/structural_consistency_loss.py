"""SCR: Structural Consistency Regularization of the CCR output."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS


@MODELS.register_module()
class StructuralConsistencyLoss(nn.Module):
    """Structural Consistency Regularization (SCR) of SGSRF.

    Three terms on the CCR output, each with its own weight (a weight of 0
    removes the term and its key). Computed in float32.

    ``loss_struct`` (word-word structure seen through vision must match the
    language structure). With ``A`` the word->patch attention (B, L, N) and
    ``Â`` its rows L2-normalised::

        S_v = Â Âᵀ                              (cosine of attention maps)
        S_l = relu(cos(sg(W'), sg(W')))         or the given ``adjacency``
        L_struct = mean over valid word pairs i != j of (S_v - S_l)^2

    ``sg`` is stop-gradient: only the attention is pulled towards the
    language structure, so the two sides cannot collapse onto each other.

    ``loss_ground`` (the cue must cover the target). The mask is reduced to
    G's grid: a cell is valid when at least half of it is not
    ``ignore_index``; its target is 1 when the target covers at least
    ``ground_threshold`` of its valid area (``soft_ground_target``: the
    covered share itself, which keeps targets smaller than a cell)::

        L_ground = BCE(G, t) (mean over valid cells)
                   + mean_b [1 - (2 sum σ(G) t + 1) / (sum σ(G) + sum t + 1)]

    ``loss_affinity`` (patch affinity follows the target/background
    partition). ``n = affinity_samples`` valid cells per image are drawn
    (half from the target, half from the background where possible; all
    cells when the grid has at most ``n``), keeping the cost at B n^2
    instead of B (h w)^2. With ``c_ij`` the cosine of ``V'_i`` and ``V'_j``::

        L_affinity = mean_{same part, i != j} (1 - c_ij)
                     + mean_{different parts} relu(c_ij - affinity_margin)

    An image with an empty mask contributes only background pairs; every
    term stays finite.

    Args:
        struct_weight (float): Weight of ``loss_struct``. Defaults to 1.
        ground_weight (float): Weight of ``loss_ground``. Defaults to 1.
        affinity_weight (float): Weight of ``loss_affinity``.
            Defaults to 1.
        ground_threshold (float): Covered share for a positive cell.
            Defaults to 0.5.
        soft_ground_target (bool): Use the covered share as target.
            Defaults to False.
        affinity_samples (int): Cells sampled per image. Defaults to 512.
        affinity_margin (float): Cosine allowed between parts.
            Defaults to 0.
        ignore_index (int): Label to ignore. Defaults to 255.
    """

    def __init__(self,
                 struct_weight: float = 1.0,
                 ground_weight: float = 1.0,
                 affinity_weight: float = 1.0,
                 ground_threshold: float = 0.5,
                 soft_ground_target: bool = False,
                 affinity_samples: int = 512,
                 affinity_margin: float = 0.0,
                 ignore_index: int = 255):
        super().__init__()
        self.struct_weight = struct_weight
        self.ground_weight = ground_weight
        self.affinity_weight = affinity_weight
        self.ground_threshold = ground_threshold
        self.soft_ground_target = soft_ground_target
        self.affinity_samples = affinity_samples
        self.affinity_margin = affinity_margin
        self.ignore_index = ignore_index

    def forward(self,
                ccr_out: Dict[str, Tensor],
                gt: Tensor,
                adjacency: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Compute the weighted terms.

        Args:
            ccr_out (dict): CCR output (``visual``, ``words``, ``word_attn``,
                ``cue_logits``, ``pad_mask``).
            gt (Tensor): ``(B, H, W)`` labels, 1 target, 0 background,
                ``ignore_index`` ignored.
            adjacency (Tensor, optional): ``(B, L, L)`` word-word structure
                (e.g. a dependency-parse adjacency) replacing the language
                similarity. Defaults to None.

        Returns:
            dict[str, Tensor]: ``loss_struct``, ``loss_ground``,
            ``loss_affinity`` (those with a non-zero weight).
        """
        losses = dict()
        if self.struct_weight:
            losses['loss_struct'] = self.struct_weight * self.struct_loss(
                ccr_out['word_attn'], ccr_out['words'], ccr_out['pad_mask'],
                adjacency)
        if self.ground_weight or self.affinity_weight:
            target, valid = self.cell_targets(gt,
                                              ccr_out['cue_logits'].shape[-2:])
        if self.ground_weight:
            losses['loss_ground'] = self.ground_weight * self.ground_loss(
                ccr_out['cue_logits'][:, 0], target, valid)
        if self.affinity_weight:
            losses['loss_affinity'] = self.affinity_weight * \
                self.affinity_loss(ccr_out['visual'], target, valid)
        return losses

    def cell_targets(self, gt: Tensor, size: Tuple[int, int]
                     ) -> Tuple[Tensor, Tensor]:
        """Reduce the mask to a grid.

        Returns:
            tuple[Tensor]: target share (or 0/1 target) and validity, both
            ``(B, h, w)`` float.
        """
        if gt.dim() == 4:
            gt = gt[:, 0]
        valid = (gt != self.ignore_index).float()[:, None]
        fg = (gt == 1).float()[:, None]
        valid_share = F.adaptive_avg_pool2d(valid, size)[:, 0]
        fg_share = F.adaptive_avg_pool2d(fg, size)[:, 0] / valid_share.clamp(
            min=1e-6)
        cell_valid = (valid_share >= 0.5).float()
        if self.soft_ground_target:
            target = fg_share.clamp(max=1.0)
        else:
            target = (fg_share >= self.ground_threshold).float()
        return target * cell_valid, cell_valid

    def struct_loss(self, attn: Tensor, words: Tensor, pad_mask: Tensor,
                    adjacency: Optional[Tensor]) -> Tensor:
        """Mean squared gap between visual and language word structure."""
        attn = F.normalize(attn.float(), dim=-1)
        vision = attn @ attn.transpose(1, 2)
        if adjacency is None:
            w = F.normalize(words.detach().float(), dim=-1)
            language = (w @ w.transpose(1, 2)).clamp(min=0)
        else:
            if adjacency.shape != vision.shape:
                raise ValueError(
                    f'adjacency must be (B, L, L) = {tuple(vision.shape)}, '
                    f'got {tuple(adjacency.shape)}')
            language = adjacency.to(vision)
        valid = (~pad_mask).float()
        pairs = valid[:, :, None] * valid[:, None, :]
        pairs = pairs * (1 - torch.eye(pairs.shape[-1], device=pairs.device))
        return ((vision - language)**2 * pairs).sum() / pairs.sum().clamp(
            min=1)

    def ground_loss(self, logits: Tensor, target: Tensor,
                    valid: Tensor) -> Tensor:
        """BCE + Dice of the cue against the cell targets."""
        logits = logits.float()
        bce = F.binary_cross_entropy_with_logits(
            logits, target, reduction='none')
        bce = (bce * valid).sum() / valid.sum().clamp(min=1)
        prob = logits.sigmoid() * valid
        inter = (prob * target).flatten(1).sum(1)
        union = prob.flatten(1).sum(1) + target.flatten(1).sum(1)
        dice = 1 - (2 * inter + 1) / (union + 1)
        return bce + dice.mean()

    def affinity_loss(self, visual: Tensor, target: Tensor,
                      valid: Tensor) -> Tensor:
        """Pull same-part cells together, push the parts apart."""
        feats = F.normalize(visual.float().flatten(2), dim=1).transpose(1, 2)
        fg = (target.flatten(1) >= 0.5).float()
        valid = valid.flatten(1)
        if feats.shape[1] > self.affinity_samples:
            n_fg = (fg * valid).sum(1, keepdim=True).clamp(min=1)
            n_bg = ((1 - fg) * valid).sum(1, keepdim=True).clamp(min=1)
            weights = valid * (fg / n_fg + (1 - fg) / n_bg) + 1e-12
            idx = torch.multinomial(weights, self.affinity_samples)
            feats = feats.gather(
                1, idx[..., None].expand(-1, -1, feats.shape[-1]))
            fg, valid = fg.gather(1, idx), valid.gather(1, idx)
        cos = feats @ feats.transpose(1, 2)
        pairs = valid[:, :, None] * valid[:, None, :]
        pairs = pairs * (1 - torch.eye(pairs.shape[-1], device=pairs.device))
        same = fg[:, :, None] * fg[:, None, :] + (1 - fg[:, :, None]) * (
            1 - fg[:, None, :])
        same_pairs, diff_pairs = pairs * same, pairs * (1 - same)
        pull = ((1 - cos) * same_pairs).sum() / same_pairs.sum().clamp(min=1)
        push = ((cos - self.affinity_margin).clamp(min=0) *
                diff_pairs).sum() / diff_pairs.sum().clamp(min=1)
        return pull + push
