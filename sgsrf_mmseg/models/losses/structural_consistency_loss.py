"""SCR: Structural Consistency Regularization of the CCR output."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.stage_outputs import Grounding
from .language_structure import batch_structure
from .mask_dice_loss import soft_dice_loss

PARSE_HELP = (
    "set text_parser=dict(model='en_core_web_sm') (or a spaCy pipeline "
    'folder) in the training dataset config, after `pip install spacy` and '
    '`python -m spacy download en_core_web_sm`; or choose '
    "language_structure='self_similarity' in the structural loss")


@MODELS.register_module()
class StructuralConsistencyLoss(nn.Module):
    """Structural Consistency Regularization (SCR) of SGSRF.

    Three terms on CCR's output, each with its own weight (a weight of 0
    removes the term and its key). Computed in float32. The default weights
    keep the mask loss the main signal for every trained part after the
    warm-up (``tools/analysis/gradient_shares.py`` measures it): the cue
    term's gradient, unweighted, is hundreds of times the mask loss's on
    the towers at initialisation.

    ``loss_struct``: the word-word structure seen through vision must match
    the structure of the language. For every CCR block ``b`` let ``P_b``
    (B, N, L) be its patch->word attention, the attention that writes the
    expression into the patches V' (and so into G, the prompts and SAM);
    column ``i`` is where word-token ``i`` is written. With ``P̂_b`` its
    columns L2-normalised over the patches::

        S_v^b = P̂_bᵀ P̂_b                        (B, L, L)
        L_struct = mean_b mean_{(i, j) in M} (S_v^b[i, j] - S_l[i, j])^2

    ``language_structure='parse'``: ``S_l`` and the constrained pairs ``M``
    come from the dependency parse of the expression
    (:func:`~.language_structure.token_structure`: content-word tokens,
    ``S_l = exp(-structure_decay * max(d - 1, 0))`` with ``d`` the distance
    of their words in the tree), so that a noun and its modifiers are
    written into the same patches and words of other phrases (a landmark)
    elsewhere. ``'self_similarity'``: ``S_l = relu(cos(sg(W'_i),
    sg(W'_j)))`` over all word tokens, the model's own word similarity (an
    ablation; ``sg`` is stop-gradient). Without CCR blocks there is no
    such attention and the term is left out.

    ``loss_ground``: the cue must cover the target. The mask is reduced to
    G's grid: a cell is valid when at least half of it is not
    ``ignore_index``; its target ``t`` is, by ``cue_target``, ``'max'``: 1
    when any target pixel falls in it (an object smaller than a cell keeps
    a positive cell), ``'soft'``: the covered share, ``'half'``: 1 when the
    target covers at least half of it::

        L_ground = BCE(G, t) (mean over valid cells) + mean_b Dice(σ(G), t)

    (With ``'soft'`` targets the smoothed Dice term of an image whose target
    covers a fraction of one cell is lowest for an all-zero cue: small
    targets need ``'max'``.)

    ``loss_affinity``: V' keeps the target apart. ``affinity_samples``
    valid cells per image are drawn (half from the target where possible);
    with ``c_ij`` the cosine of ``V'_i`` and ``V'_j``::

        L_affinity = mean_{i, j in target, i != j} (1 - c_ij)
                     + mean_{i in target, j in background}
                       relu(c_ij - affinity_margin)

    Background cells are not pulled together, so the landmarks relational
    expressions need ("next to the road") keep their own features.

    Args:
        struct_weight (float): Weight of ``loss_struct``. Defaults to 0.5.
        ground_weight (float): Weight of ``loss_ground``. Defaults to 0.1.
        affinity_weight (float): Weight of ``loss_affinity``.
            Defaults to 0.1.
        language_structure (str): 'parse' or 'self_similarity'.
            Defaults to 'parse'.
        structure_decay (float): Decay of the parse target with the tree
            distance. Defaults to 0.7.
        cue_target (str): 'max', 'soft' or 'half'. Defaults to 'max'.
        affinity_samples (int): Cells sampled per image. Defaults to 512.
        affinity_margin (float): Cosine allowed between target and
            background. Defaults to 0.
        ignore_index (int): Label to ignore. Defaults to 255.
    """

    def __init__(self,
                 struct_weight: float = 0.5,
                 ground_weight: float = 0.1,
                 affinity_weight: float = 0.1,
                 language_structure: str = 'parse',
                 structure_decay: float = 0.7,
                 cue_target: str = 'max',
                 affinity_samples: int = 512,
                 affinity_margin: float = 0.0,
                 ignore_index: int = 255):
        super().__init__()
        if language_structure not in ('parse', 'self_similarity'):
            raise ValueError("language_structure must be 'parse' or "
                             f"'self_similarity', got {language_structure!r}")
        if cue_target not in ('max', 'soft', 'half'):
            raise ValueError("cue_target must be 'max', 'soft' or 'half', "
                             f'got {cue_target!r}')
        self.struct_weight = struct_weight
        self.ground_weight = ground_weight
        self.affinity_weight = affinity_weight
        self.language_structure = language_structure
        self.structure_decay = structure_decay
        self.cue_target = cue_target
        self.affinity_samples = affinity_samples
        self.affinity_margin = affinity_margin
        self.ignore_index = ignore_index

    @property
    def needs_attention(self) -> bool:
        """Whether CCR must return its patch->word attention maps."""
        return bool(self.struct_weight)

    def forward(
            self,
            grounding: Grounding,
            gt: Tensor,
            parses: Optional[List[Optional[dict]]] = None
    ) -> Dict[str, Tensor]:
        """Compute the weighted terms.

        Args:
            grounding (Grounding): CCR's output (with its attention maps).
            gt (Tensor): ``(B, H, W)`` labels, 1 target, 0 background,
                ``ignore_index`` ignored.
            parses (list[dict], optional): The dependency parse of each
                expression (``text_parse`` of the data samples); needed by
                ``language_structure='parse'``. Defaults to None.

        Returns:
            dict[str, Tensor]: ``loss_struct``, ``loss_ground``,
            ``loss_affinity`` (those with a non-zero weight).
        """
        losses = dict()
        if self.struct_weight and grounding.patch_word_attn:
            losses['loss_struct'] = self.struct_weight * self.struct_loss(
                grounding, parses)
        if self.ground_weight or self.affinity_weight:
            target, valid = self.cell_targets(gt,
                                              grounding.cue_logits.shape[-2:])
        if self.ground_weight:
            losses['loss_ground'] = self.ground_weight * self.ground_loss(
                grounding.cue_logits[:, 0], target, valid)
        if self.affinity_weight:
            losses['loss_affinity'] = self.affinity_weight * \
                self.affinity_loss(grounding.visual, target, valid)
        return losses

    def cell_targets(self, gt: Tensor,
                     size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """Reduce the mask to a grid: target and validity, ``(B, h, w)``."""
        if gt.dim() == 4:
            gt = gt[:, 0]
        valid = (gt != self.ignore_index).float()[:, None]
        fg = (gt == 1).float()[:, None]
        valid_share = F.adaptive_avg_pool2d(valid, size)[:, 0]
        cell_valid = (valid_share >= 0.5).float()
        if self.cue_target == 'max':
            target = F.adaptive_max_pool2d(fg, size)[:, 0]
        else:
            share = F.adaptive_avg_pool2d(fg, size)[:, 0] / \
                valid_share.clamp(min=1e-6)
            target = share.clamp(max=1.0) if self.cue_target == 'soft' \
                else (share >= 0.5).float()
        return target * cell_valid, cell_valid

    def language_target(
            self, grounding: Grounding,
            parses: Optional[List[Optional[dict]]]) -> Tuple[Tensor, Tensor]:
        """``S_l`` and the constrained pairs ``M``, both ``(B, L, L)``."""
        pad_mask = grounding.pad_mask
        num = pad_mask.shape[1]
        if self.language_structure == 'self_similarity':
            w = F.normalize(grounding.words.detach().float(), dim=-1)
            valid = (~pad_mask).float()
            pairs = valid[:, :, None] * valid[:, None, :]
            pairs = pairs * (1 - torch.eye(num, device=pairs.device))
            return (w @ w.transpose(1, 2)).clamp(min=0), pairs.bool()
        if parses is None or any(p is None for p in parses):
            raise KeyError(
                "StructuralConsistencyLoss(language_structure='parse') "
                "needs the dependency parse of every expression (metainfo "
                f"'text_parse' of the data samples): {PARSE_HELP}")
        target, pairs = batch_structure(parses, (~pad_mask).sum(1), num,
                                        self.structure_decay)
        return target.to(pad_mask.device), pairs.to(pad_mask.device)

    def struct_loss(self, grounding: Grounding,
                    parses: Optional[List[Optional[dict]]]) -> Tensor:
        """Mean squared gap between visual and language word structure."""
        language, pairs = self.language_target(grounding, parses)
        pairs = pairs.float()
        total = 0
        for attn in grounding.patch_word_attn:
            cols = F.normalize(attn.float(), dim=1)
            vision = cols.transpose(1, 2) @ cols
            total = total + ((vision - language)**2 * pairs).sum() / \
                pairs.sum().clamp(min=1)
        return total / len(grounding.patch_word_attn)

    def ground_loss(self, logits: Tensor, target: Tensor,
                    valid: Tensor) -> Tensor:
        """BCE + Dice of the cue against the cell targets."""
        logits = logits.float()
        bce = F.binary_cross_entropy_with_logits(
            logits, target, reduction='none')
        bce = (bce * valid).sum() / valid.sum().clamp(min=1)
        dice = soft_dice_loss(logits.sigmoid(), target, valid)
        return bce + dice.mean()

    def affinity_loss(self, visual: Tensor, target: Tensor,
                      valid: Tensor) -> Tensor:
        """Pull target cells together, push them from the background."""
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
        fg, bg = fg * valid, (1 - fg) * valid
        pull_pairs = fg[:, :, None] * fg[:, None, :] * (
            1 - torch.eye(fg.shape[1], device=fg.device))
        push_pairs = fg[:, :, None] * bg[:, None, :]
        pull = ((1 - cos) * pull_pairs).sum() / pull_pairs.sum().clamp(min=1)
        push = ((cos - self.affinity_margin).clamp(min=0) *
                push_pairs).sum() / push_pairs.sum().clamp(min=1)
        return pull + push
