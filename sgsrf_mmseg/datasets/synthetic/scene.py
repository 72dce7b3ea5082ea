"""One synthetic scene: objects placed by a plan, referents written.

A scene has 1-3 referents (disjoint target sets), each with one or two
expressions (:mod:`.referents`). Its plan (:mod:`.composition`) is drawn
first: a role-reversal pair (in :data:`ROLE_REVERSAL_SHARE` of the scenes
with two or more referents), else a target between two landmarks (in
:data:`BETWEEN_SHARE` of the others), else objects at random. A scene whose
objects do not give what the plan and the referent count need is drawn
again.

Some colour-kind pairs (:data:`~.vocabulary.HELD_OUT_COMBOS`) never appear in
the train and val scenes; a share of the test scenes have a first referent
named by exactly one of those pairs, to measure generalisation to unseen
attribute combinations.
"""
from typing import List, NamedTuple

import numpy as np

from .candidates import candidate_queries
from .composition import arrange
from .referents import Referent, choose_referents, write_referents
from .relations import SceneObject
from .renderer import SceneRenderer
from .vocabulary import HELD_OUT_COMBOS

#: Share of the test scenes whose first referent is of a held-out pair.
HELD_OUT_TEST_SHARE = 0.2
#: Share of the scenes with two or more referents that have a role-reversal
#: pair.
ROLE_REVERSAL_SHARE = 0.35
#: Share of the other scenes planned around a target between two landmarks.
BETWEEN_SHARE = 0.25


class Scene(NamedTuple):
    """A generated scene.

    Attributes:
        image (np.ndarray): RGB image, uint8.
        objects (list[SceneObject]): The objects drawn.
        masks (list[np.ndarray]): Each referent's mask, uint8 0/255.
        referents (list[Referent]): The referents, their expressions,
            types and tags.
        record (dict): ``plan``, and the colour-kind pairs of each
            referent's targets (``target_combos``) and of all objects
            (``object_combos``).
    """
    image: np.ndarray
    objects: List[SceneObject]
    masks: List[np.ndarray]
    referents: List[Referent]
    record: dict


def generate_scene(rng: np.random.Generator, image_size: int, split: str,
                   num_referents: int) -> Scene:
    """Generate one scene, its referents, their masks and expressions.

    Args:
        rng (np.random.Generator): Random source of this scene.
        image_size (int): Image side in pixels.
        split (str): ``'train'``, ``'val'`` or ``'test'``; train and val
            never contain :data:`HELD_OUT_COMBOS`, and a share of the test
            scenes target one of them.
        num_referents (int): Number of referents, 1-3.

    Returns:
        Scene: The image, the masks, the referents and a record.
    """
    banned = HELD_OUT_COMBOS if split != 'test' else ()
    force = None
    if split == 'test' and rng.random() < HELD_OUT_TEST_SHARE:
        force = HELD_OUT_COMBOS[rng.integers(len(HELD_OUT_COMBOS))]
    if num_referents >= 2 and rng.random() < ROLE_REVERSAL_SHARE:
        plan = 'role_reversal'
    else:
        plan = 'between' if rng.random() < BETWEEN_SHARE else 'plain'
    while True:
        scene = SceneRenderer(image_size, rng)
        scene.add_roads()
        arrangement = arrange(scene, rng, plan, banned, force)
        if arrangement is None:
            continue
        candidates = candidate_queries(arrangement.objects, image_size)
        picks = choose_referents(rng, candidates, arrangement, num_referents,
                                 force)
        if picks is not None:
            break
    referents = write_referents(rng, picks, candidates, arrangement)
    objects = arrangement.objects
    masks = [
        np.isin(scene.labels, [t + 1
                               for t in referent.targets]).astype(np.uint8) *
        255 for referent in referents
    ]
    record = dict(
        plan=plan,
        target_combos=[
            sorted(
                set((objects[t].colour, objects[t].kind)
                    for t in referent.targets)) for referent in referents
        ],
        object_combos=sorted(set((o.colour, o.kind) for o in objects)))
    return Scene(scene.finish(), objects, masks, referents, record)
