"""SCR: Structural Consistency Regularization over the three stages."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ...utils.cue_region import cue_region
from ...utils.dependency_parse import DependencyParse
from ..utils.stage_outputs import Grounding, SAMPrompts
from .expression_roles import TokenRoles, token_roles
from .landmark_structure import landmark_cells, landmark_structure_loss
from .language_structure import pairwise_structure_loss
from .mask_dice_loss import soft_dice_loss
from .stage_structure import (ccr_structure_loss, mask_drift_loss,
                              prompt_structure_loss)

PARSE_HELP = (
    "set text_parser=dict(model='en_core_web_sm') (or a spaCy pipeline "
    'folder) in the training dataset config, after `pip install spacy` and '
    '`python -m spacy download en_core_web_sm`; or choose '
    "language_structure='self_similarity' and prompt_weight=0 in the "
    'structural loss')

#: ``language_structure`` values: the roles read from the parse (default),
#: and two pairwise forms (:mod:`.language_structure`).
LANGUAGE_STRUCTURES = ('roles', 'tree_distance', 'self_similarity')
#: ``stage_region`` values: the region the GPG and GMS terms read.
STAGE_REGIONS = ('cue', 'cue_or_target')
#: The stages whose structural term follows a schedule, and their weights.
SCHEDULED_TERMS = {'prompt': 'prompt_weight', 'drift': 'drift_weight'}


@MODELS.register_module()
class StructuralConsistencyLoss(nn.Module):
    """Structural Consistency Regularization (SCR) of SGSRF, stage by stage.

    Terms (each with its own weight; a weight of 0 removes the term and its
    key). Computed in float32. The default weights keep the mask loss the
    main signal of every trained part after the warm-up
    (``tools/analysis/gradient_shares.py`` measures it).

    Structure, imposed progressively over the three stages, each stage held
    to the roles of the expression's words (:mod:`.expression_roles`: the
    head phrase, position words, landmarks and the direction of each
    relation, read from the dependency parse) and to the grounding of the
    stage before it (:mod:`.stage_structure` has the formulas):

    * ``loss_struct`` (CCR, ``struct_weight``): where each word is written
      into the patches (each block's patch->word attention) follows its
      role: head words into the target, target patches read the words that
      describe it, landmark words outside it and on the side the relation
      names; and the refined sentence, which the cue is read with, pools
      the words that describe the target. None of this is met by uniform
      attention, by attention that writes (almost) nothing of the content
      words (all on SOT/EOT or function words), or by attention blind to
      direction words.
      ``language_structure='tree_distance'``: the earlier pairwise form,
      the Gram matrix of the column-normalised attention against
      ``exp(-decay * max(d - 1, 0))`` of tree distances between content
      words; ``'self_similarity'``: against the model's own word
      similarity (:mod:`.language_structure`). Without CCR blocks there is
      no such attention and the term is left out.
    * ``loss_prompt_struct`` (GPG, ``prompt_weight``): GPG's sparse
      queries read the cue's region and the words describing the target,
      not the landmarks.
    * ``loss_mask_drift`` (GMS, ``drift_weight``): the share of the
      predicted mask outside the cue's region.
    * ``loss_landmark`` (CCR, ``landmark_weight``; needs the refiner's
      ``relation_prior``): the relation term's landmark pools the landmark's
      words and lies on the landmark's cells where the samples carry a
      ``gt_landmark_map`` (:class:`LoadLandmarkMap`), else off the target
      and on the side the relation names
      (:func:`.landmark_structure.landmark_structure_loss`).

    ``stage_region`` is the region these two terms hold their stage to:
    ``'cue'``, the cells the cue supports; ``'cue_or_target'``, those and
    the target's cells (``cue_target``'s cells), so that a cue that misses
    part of the target never pushes the queries or the mask off it.

    ``stage_schedule`` ramps the GPG and GMS terms in: ``dict(prompt=(s,
    e), drift=(s, e))`` scales a term's weight linearly from 0 at
    iteration ``s`` to 1 at ``e`` (set by ``StageScheduleHook`` through
    :meth:`set_iteration`; outside a runner every weight is full), so that
    a stage is held to the grounding of the one before it once that
    grounding has been learned.

    Grounding and affinity:

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
        prompt_weight (float): Weight of ``loss_prompt_struct``.
            Defaults to 0.
        drift_weight (float): Weight of ``loss_mask_drift``. Defaults to 0.
        landmark_weight (float): Weight of ``loss_landmark``. Defaults to 0.
        stage_schedule (dict, optional): ``prompt``/``drift`` ramps
            ``(start, end)`` in iterations. Defaults to None (full weights).
        stage_region (str): 'cue' or 'cue_or_target'. Defaults to 'cue'.
        language_structure (str): 'roles', 'tree_distance' or
            'self_similarity'. Defaults to 'roles'.
        structure_decay (float): Decay of the 'tree_distance' target with
            the tree distance. Defaults to 0.7.
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
                 prompt_weight: float = 0.0,
                 drift_weight: float = 0.0,
                 landmark_weight: float = 0.0,
                 stage_schedule: Optional[Dict[str, Sequence[int]]] = None,
                 stage_region: str = 'cue',
                 language_structure: str = 'roles',
                 structure_decay: float = 0.7,
                 cue_target: str = 'max',
                 affinity_samples: int = 512,
                 affinity_margin: float = 0.0,
                 ignore_index: int = 255):
        super().__init__()
        if language_structure == 'parse':
            raise ValueError(
                "language_structure='parse' is now called 'tree_distance' "
                "(the pairwise tree-distance form); the default, 'roles', "
                'reads the roles of the words from the parse')
        if language_structure not in LANGUAGE_STRUCTURES:
            raise ValueError(f'language_structure must be one of '
                             f'{LANGUAGE_STRUCTURES}, got '
                             f'{language_structure!r}')
        if stage_region not in STAGE_REGIONS:
            raise ValueError(f'stage_region must be one of {STAGE_REGIONS}, '
                             f'got {stage_region!r}')
        if cue_target not in ('max', 'soft', 'half'):
            raise ValueError("cue_target must be 'max', 'soft' or 'half', "
                             f'got {cue_target!r}')
        self.struct_weight = struct_weight
        self.ground_weight = ground_weight
        self.affinity_weight = affinity_weight
        self.prompt_weight = prompt_weight
        self.drift_weight = drift_weight
        self.landmark_weight = landmark_weight
        self.stage_schedule = self._check_schedule(stage_schedule or {})
        self.stage_region = stage_region
        self.iteration: Optional[int] = None
        self.language_structure = language_structure
        self.structure_decay = structure_decay
        self.cue_target = cue_target
        self.affinity_samples = affinity_samples
        self.affinity_margin = affinity_margin
        self.ignore_index = ignore_index

    @staticmethod
    def _check_schedule(schedule: dict) -> Dict[str, Tuple[int, int]]:
        unknown = set(schedule) - set(SCHEDULED_TERMS)
        if unknown:
            raise ValueError(f'stage_schedule: unknown terms {sorted(unknown)}'
                             f'; known: {sorted(SCHEDULED_TERMS)}')
        checked = {}
        for name, ramp in schedule.items():
            if len(ramp) != 2 or not 0 <= ramp[0] <= ramp[1]:
                raise ValueError(f'stage_schedule[{name!r}] = {ramp!r}: '
                                 'expected (start, end) iterations with '
                                 '0 <= start <= end')
            checked[name] = (int(ramp[0]), int(ramp[1]))
        return checked

    def set_iteration(self, iteration: Optional[int]) -> None:
        """Set the training iteration the schedule reads (None: full)."""
        self.iteration = iteration

    def scheduled_weight(self, name: str) -> float:
        """The weight of a scheduled term at the current iteration."""
        weight = getattr(self, SCHEDULED_TERMS[name])
        if self.iteration is None or name not in self.stage_schedule:
            return weight
        start, end = self.stage_schedule[name]
        if self.iteration >= end:
            return weight
        if self.iteration < start or end == start:
            return 0.0
        return weight * (self.iteration - start) / (end - start)

    @property
    def needs_attention(self) -> bool:
        """Whether CCR must return its patch->word attention maps."""
        return bool(self.struct_weight)

    @property
    def needs_query_attention(self) -> bool:
        """Whether GPG must return its queries' attention maps."""
        return bool(self.prompt_weight)

    @property
    def needs_mask_logits(self) -> bool:
        """Whether the term of GMS reads the mask logits."""
        return bool(self.drift_weight)

    def forward(self,
                grounding: Grounding,
                gt: Tensor,
                parses: Optional[Sequence[Any]] = None,
                prompts: Optional[SAMPrompts] = None,
                mask_logits: Optional[Tensor] = None,
                landmark_gt: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Compute the weighted terms.

        Args:
            grounding (Grounding): CCR's output (with its attention maps).
            gt (Tensor): ``(B, H, W)`` labels, 1 target, 0 background,
                ``ignore_index`` ignored.
            parses (Sequence, optional): The dependency parse of each
                expression (``text_parse`` of the data samples, a
                :class:`DependencyParse` or its dict form); needed by the
                'roles' and 'tree_distance' structures and by the GPG
                term. Defaults to None.
            prompts (SAMPrompts, optional): GPG's output with its queries'
                attention (for ``loss_prompt_struct``). Defaults to None.
            mask_logits (Tensor, optional): ``(B, 1, H', W')`` the head's
                mask logits (for ``loss_mask_drift``). Defaults to None.
            landmark_gt (Tensor, optional): ``(B, H, W)`` 1 on the landmarks
                each expression names (the samples' ``gt_landmark_map``):
                ``loss_landmark`` then holds CCR's landmark to them.
                Defaults to None.

        Returns:
            dict[str, Tensor]: The terms with a non-zero weight (the
            scheduled ones also while their ramp is at 0).
        """
        losses = dict()
        grid = tuple(grounding.cue_logits.shape[-2:])
        target, valid = self.cell_targets(gt, grid)
        if self.landmark_weight and grounding.landmark is None:
            raise ValueError(
                'StructuralConsistencyLoss: landmark_weight needs the '
                "landmark relation term's landmark; set "
                'model.refiner.relation_prior=True or landmark_weight=0')
        roles = None
        if (self.struct_weight and self.language_structure == 'roles'
                and grounding.patch_word_attn) or (
                    self.prompt_weight
                    and prompts is not None) or self.landmark_weight:
            roles = self.token_roles(grounding, parses)
        if self.struct_weight and grounding.patch_word_attn:
            if self.language_structure == 'roles':
                term = ccr_structure_loss(grounding.patch_word_attn, roles,
                                          target.flatten(1), grid,
                                          grounding.sentence_word_weights)
            else:
                term = self.pairwise_struct_loss(grounding, parses)
            losses['loss_struct'] = self.struct_weight * term
        if self.landmark_weight:
            cells = None if landmark_gt is None else landmark_cells(
                landmark_gt, grid)
            losses['loss_landmark'] = self.landmark_weight * \
                landmark_structure_loss(grounding.landmark, roles,
                                        target.flatten(1), grid, cells)
        use_prompt = bool(self.prompt_weight and prompts is not None
                          and prompts.query_attn)
        use_drift = bool(self.drift_weight and mask_logits is not None)
        if use_prompt or use_drift:
            region = self.stage_region_cells(grounding, target)
        if use_prompt:
            losses['loss_prompt_struct'] = self.scheduled_weight(
                'prompt') * prompt_structure_loss(prompts.query_attn, roles,
                                                  region.flatten(1))
        if use_drift:
            losses['loss_mask_drift'] = self.scheduled_weight(
                'drift') * mask_drift_loss(mask_logits, region)
        if self.ground_weight:
            losses['loss_ground'] = self.ground_weight * self.ground_loss(
                grounding.cue_logits[:, 0], target, valid)
        if self.affinity_weight:
            losses['loss_affinity'] = self.affinity_weight * \
                self.affinity_loss(grounding.visual, target, valid)
        return losses

    def stage_region_cells(self, grounding: Grounding,
                           target: Tensor) -> Tensor:
        """The region of the GPG and GMS terms, ``(B, h, w)`` bool."""
        region = cue_region(grounding.cue_logits[:, 0])
        if self.stage_region == 'cue_or_target':
            region = region | (target > 0)
        return region

    def _checked_parses(self, parses: Optional[Sequence[Any]],
                        num: int) -> List[DependencyParse]:
        if parses is None or len(parses) != num or any(p is None
                                                       for p in parses):
            raise KeyError(
                'StructuralConsistencyLoss needs the dependency parse of '
                "every expression (metainfo 'text_parse' of the data "
                f'samples): {PARSE_HELP}')
        return [DependencyParse.from_dict(p) for p in parses]

    def token_roles(self, grounding: Grounding,
                    parses: Optional[Sequence[Any]]) -> List[TokenRoles]:
        """The roles of each expression's tokens (tokens the tower kept)."""
        lengths = (~grounding.pad_mask).sum(1).tolist()
        checked = self._checked_parses(parses, len(lengths))
        return [
            token_roles(parse,
                        int(length) - 2)
            for parse, length in zip(checked, lengths)
        ]

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

    def pairwise_struct_loss(self, grounding: Grounding,
                             parses: Optional[Sequence[Any]]) -> Tensor:
        """The 'tree_distance' and 'self_similarity' forms."""
        parses = self._checked_parses(
            parses, grounding.pad_mask.shape[0]
        ) if self.language_structure == 'tree_distance' else None
        return pairwise_structure_loss(grounding.patch_word_attn,
                                       grounding.pad_mask, grounding.words,
                                       parses, self.structure_decay)

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
