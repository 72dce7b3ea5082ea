"""The named variants of an ablation of the tiny config.

Each variant is a change of ``configs/sgsrf/sgsrf_tiny_synthetic.py`` (its
``--cfg-options``, or another config file), with what it removes and what
else the change removes or changes with it (its side effects), as the
ablation table states them.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, Optional


@dataclass(frozen=True)
class Variant:
    """A named change of the config.

    Attributes:
        description (str): What the change removes, replaces or adds.
        cfg_options (dict): ``--cfg-options`` of the change (scalar values:
            None, bool, int, float, str).
        config (str, optional): Another config file, relative to the
            repository root, used instead of the ablated one.
        side_effects (str): What else the change removes or changes.
        baseline (str): The variant this one changes one thing of, where
            that is not ``full`` (so that a 6,000-iteration variant is also
            compared at its own schedule); the comparison table compares it
            with both.
    """
    description: str
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    config: Optional[str] = None
    side_effects: str = ''
    baseline: str = ''


SCR = 'model.structural_loss'
STRUCTURE_OFF = {
    f'{SCR}.struct_weight': 0,
    f'{SCR}.prompt_weight': 0,
    f'{SCR}.drift_weight': 0
}
#: The three additions: mask detail stem, CCR patch self-attention and the
#: cue's position prior.
ADDITIONS = {
    'model.decode_head.detail_stem.channels': 16,
    'model.refiner.patch_self_attn': True,
    'model.refiner.position_prior': True
}
#: The tiny config with the landmark boxes (``loss_landmark``).
LANDMARK_CONFIG = 'configs/sgsrf/sgsrf_tiny_synthetic_landmark.py'
#: The landmark config with the relation term's distance features, taken
#: over the landmark's map.
NEIGHBOURHOOD_CONFIG = (
    'configs/sgsrf/sgsrf_tiny_synthetic_landmark_neighbourhood.py')
#: The landmark config with the landmark found on the features before
#: CCR's refinement.
PROJECTED_CONFIG = 'configs/sgsrf/sgsrf_tiny_synthetic_landmark_projected.py'
#: The landmark config with the landmark read together with the target.
JOINT_CONFIG = 'configs/sgsrf/sgsrf_tiny_synthetic_landmark_joint.py'
#: The option of the optimizer's learning rate.
LR = 'optim_wrapper.optimizer.lr'
#: 6,000 training iterations, the cosine decay stretched to match.
LONG_SCHEDULE = {'train_cfg.max_iters': 6000, 'param_scheduler.1.end': 6000}
VARIANTS: Dict[str, Variant] = {
    'full':
    Variant('SGSRF as configured'),
    'no_struct':
    Variant("no CCR structure term (loss_struct); SCR's other terms kept",
            {f'{SCR}.struct_weight': 0}),
    'no_prompt_struct':
    Variant('no GPG structure term (loss_prompt_struct)',
            {f'{SCR}.prompt_weight': 0}),
    'no_mask_drift':
    Variant('no GMS structure term (loss_mask_drift)',
            {f'{SCR}.drift_weight': 0}),
    'ccr_struct_only':
    Variant(
        'no GPG or GMS structure term (loss_prompt_struct, '
        'loss_mask_drift); the CCR structure term kept', {
            f'{SCR}.prompt_weight': 0,
            f'{SCR}.drift_weight': 0
        }),
    'tree_distance_stages':
    Variant(
        "CCR's pairwise tree-distance structure term in place of the roles "
        'term; the GPG and GMS structure terms kept',
        {f'{SCR}.language_structure': 'tree_distance'}),
    'stage_region_target':
    Variant(
        "the GPG and GMS terms' region is the cue's region or the target "
        "(full: the cue's region), so a cue that misses the target does not "
        'push the queries or the mask off it',
        {f'{SCR}.stage_region': 'cue_or_target'}),
    'mask_detail_stem':
    Variant(
        "adds image detail to SAM's mask decoder (GMS): a convolution stem "
        'on the image, added to the upscaled embedding the mask is drawn '
        'from', {'model.decode_head.detail_stem.channels': 16}),
    'ccr_patch_self_attn':
    Variant(
        'adds patch self-attention to each CCR block, after the patches '
        'read the words', {'model.refiner.patch_self_attn': True}),
    'cue_position_prior':
    Variant(
        "adds CCR's position prior to the cue: a term linear in the patch "
        'position embedding, its weights read from the sentence',
        {'model.refiner.position_prior': True}),
    'cue_relation_prior':
    Variant(
        "adds CCR's landmark relation term to the cue: the offset of each "
        'patch from the landmark the sentence names, weighed by the '
        'sentence', {'model.refiner.relation_prior': True}),
    'cue_landmark_supervised':
    Variant(
        'the landmark relation term, its landmark held to the parse '
        "(loss_landmark): it pools the landmark's words and lies off the "
        "target, on the relation's side", {
            'model.refiner.relation_prior': True,
            f'{SCR}.landmark_weight': 0.5
        }),
    'cue_landmark_boxes':
    Variant(
        'the landmark relation term, its landmark held to the landmark '
        "boxes the generator writes (loss_landmark): it pools the landmark's "
        'words and lies on the landmark',
        config=LANDMARK_CONFIG),
    'all_additions':
    Variant(
        'all three additions: the mask detail stem, the CCR patch '
        'self-attention and the position prior of the cue', dict(ADDITIONS)),
    'lr_half':
    Variant('half the learning rate (5e-4 instead of 1e-3)', {LR: 5e-4}),
    'landmark_additions':
    Variant(
        'cue_landmark_boxes with all_additions: the landmark boxes and the '
        'three additions together, at 3,000 iterations',
        dict(ADDITIONS),
        config=LANDMARK_CONFIG,
        baseline='cue_landmark_boxes'),
    'landmark_neighbourhood':
    Variant(
        "landmark_additions with the relation term's distance features (a "
        'bump around the landmark, for "next to") and the term taken over '
        "the landmark's map instead of at its mean position (near either "
        'of two candidate landmarks, not between them)',
        dict(ADDITIONS),
        config=NEIGHBOURHOOD_CONFIG,
        baseline='landmark_additions'),
    'neighbourhood_landmark_x2':
    Variant(
        'landmark_neighbourhood with the landmark term (loss_landmark) at '
        'twice its weight (1.0): the relation term is only as good as the '
        'landmark it finds',
        dict(ADDITIONS, **{f'{SCR}.landmark_weight': 1.0}),
        config=NEIGHBOURHOOD_CONFIG,
        baseline='landmark_neighbourhood'),
    'landmark_projected':
    Variant(
        'landmark_additions with the landmark found on the patches and '
        "words before CCR's refinement, which have not read the target's "
        'words',
        dict(ADDITIONS),
        config=PROJECTED_CONFIG,
        baseline='landmark_additions'),
    'landmark_joint':
    Variant(
        'landmark_additions with the landmark read together with the '
        'target: each candidate landmark cell weighed by the best patch for '
        'the target in the named relation to it (the term over the '
        "landmark's map)",
        dict(ADDITIONS),
        config=JOINT_CONFIG,
        baseline='landmark_additions'),
    'landmark_additions_lr2x':
    Variant(
        'landmark_additions at twice the learning rate (2e-3): does a '
        'faster start take what 6,000 iterations give, at 3,000?',
        dict(ADDITIONS, **{LR: 2e-3}),
        config=LANDMARK_CONFIG,
        baseline='landmark_additions'),
    'landmark_additions_lr_half':
    Variant(
        'landmark_additions at half the learning rate (5e-4): twice the '
        'rate costs accuracy; does half gain it?',
        dict(ADDITIONS, **{LR: 5e-4}),
        config=LANDMARK_CONFIG,
        baseline='landmark_additions'),
    'ccr_four_blocks':
    Variant('four CCR refinement blocks instead of two (more fusion capacity)',
            {'model.refiner.num_blocks': 4}),
    'long_schedule':
    Variant(
        '6,000 training iterations instead of 3,000 (the cosine decay '
        'stretched to match): is the model short of steps?',
        dict(LONG_SCHEDULE),
        side_effects='twice the training time'),
    'cue_landmark_boxes_long':
    Variant(
        'cue_landmark_boxes with 6,000 training iterations (as '
        'long_schedule)',
        dict(LONG_SCHEDULE),
        config=LANDMARK_CONFIG,
        side_effects='twice the training time',
        baseline='long_schedule'),
    'landmark_additions_long':
    Variant(
        'cue_landmark_boxes_long with all_additions: the landmark boxes, '
        'the three additions and 6,000 training iterations together',
        dict(ADDITIONS, **LONG_SCHEDULE),
        config=LANDMARK_CONFIG,
        side_effects='twice the training time',
        baseline='cue_landmark_boxes_long'),
    'landmark_joint_long':
    Variant(
        'landmark_joint at 6,000 training iterations: the joint reading of '
        'the landmark with the schedule of landmark_additions_long',
        dict(ADDITIONS, **LONG_SCHEDULE),
        config=JOINT_CONFIG,
        side_effects='twice the training time',
        baseline='landmark_additions_long'),
    'landmark_additions_long_drift':
    Variant(
        'landmark_additions_long with the GMS drift term (loss_mask_drift) '
        'at three times its weight: does it take back the drift the '
        'landmark term adds, and the masks that take the target and more?',
        dict(ADDITIONS, **LONG_SCHEDULE, **{f'{SCR}.drift_weight': 0.6}),
        config=LANDMARK_CONFIG,
        side_effects='twice the training time',
        baseline='landmark_additions_long'),
    'no_cue':
    Variant(
        'no cue term (loss_ground)', {f'{SCR}.ground_weight': 0},
        side_effects='nothing supervises the cue G, which the GPG and '
        'GMS terms read as their region'),
    'no_affinity':
    Variant('no affinity term (loss_affinity)', {f'{SCR}.affinity_weight': 0}),
    'no_stage_struct':
    Variant(
        'none of the three structure terms (CCR, GPG, GMS); cue and '
        'affinity kept', dict(STRUCTURE_OFF)),
    'only_structure':
    Variant(
        'SCR with only its three structure terms (no cue, no affinity)', {
            f'{SCR}.ground_weight': 0,
            f'{SCR}.affinity_weight': 0
        },
        side_effects='nothing supervises the cue G'),
    'no_scr_terms':
    Variant(
        'no SCR at all: none of its five terms (CCR, GPG and GMS '
        'structure, cue, affinity)', {SCR: None}),
    'previous_recipe':
    Variant(
        "the previous default: CCR's pairwise tree-distance structure "
        'term, no GPG or GMS structure term', {
            f'{SCR}.language_structure': 'tree_distance',
            f'{SCR}.prompt_weight': 0,
            f'{SCR}.drift_weight': 0
        }),
    'no_ccr_blocks':
    Variant(
        'CCR without refinement blocks (projections only)',
        {'model.refiner.num_blocks': 0},
        side_effects='no patch->word attention, so no CCR structure '
        'term'),
    'no_gpg':
    Variant(
        "no GPG (SAM's own no-mask prompt)", {'model.prompt_generator': None},
        side_effects='no sparse queries, so no GPG structure term'),
    'no_gms_adapters':
    Variant('GMS without the grounding adapters in the SAM encoder',
            {'model.decode_head.use_grounding_adapters': False}),
    'no_text':
    Variant(
        'every expression replaced by an empty string',
        config='configs/sgsrf/sgsrf_tiny_synthetic_notext.py',
        side_effects='the empty parse has no words: the CCR and GPG '
        'structure terms have nothing to constrain'),
}
