"""One synthetic scene: objects placed, a target chosen, expressions written.

Some colour-kind pairs (:data:`~.vocabulary.HELD_OUT_COMBOS`) never appear in
the train and val scenes; a share of the test scenes target objects of
exactly those pairs, to measure generalisation to unseen attribute
combinations.
"""
from typing import List, NamedTuple, Sequence, Tuple

import numpy as np

from .phrasing import Phrase, phrase
from .queries import SceneObject, candidate_queries
from .renderer import SceneRenderer
from .vocabulary import HELD_OUT_COMBOS, KIND_COLOURS, KIND_WEIGHTS, KINDS

#: Share of the test scenes whose target is of a held-out pair.
HELD_OUT_TEST_SHARE = 0.2
#: How often each expression type is chosen among a scene's candidates.
EXPRESSION_TYPE_WEIGHTS = {
    'colour_kind': 0.38,
    'kind': 0.12,
    'position': 0.16,
    'size': 0.07,
    'relation': 0.12,
    'group': 0.15,
}


class Scene(NamedTuple):
    """A generated scene.

    Attributes:
        image (np.ndarray): RGB image, uint8.
        mask (np.ndarray): Target mask, uint8 0/255.
        phrases (list[Phrase]): One or two expressions of the target, with
            their trees.
        record (dict): Expression type, number of targets, colour-kind
            pairs of the targets and of all objects.
    """
    image: np.ndarray
    mask: np.ndarray
    phrases: List[Phrase]
    record: dict


def _sample_combo(rng: np.random.Generator,
                  banned: Sequence[Tuple[str, str]]) -> Tuple[str, str]:
    while True:
        kind = KINDS[rng.choice(len(KINDS), p=KIND_WEIGHTS)]
        colours = KIND_COLOURS[kind]
        colour = colours[rng.integers(len(colours))]
        if (colour, kind) not in banned:
            return colour, kind


def generate_scene(rng: np.random.Generator, image_size: int,
                   split: str) -> Scene:
    """Generate one scene, its target mask and 1-2 expressions.

    Args:
        rng (np.random.Generator): Random source of this scene.
        image_size (int): Image side in pixels.
        split (str): ``'train'``, ``'val'`` or ``'test'``; train and val
            never contain :data:`HELD_OUT_COMBOS`, and a share of the test
            scenes target one of them.

    Returns:
        Scene: The image, the mask, the expressions and a record.
    """
    banned = HELD_OUT_COMBOS if split != 'test' else ()
    force = None
    if split == 'test' and rng.random() < HELD_OUT_TEST_SHARE:
        force = HELD_OUT_COMBOS[rng.integers(len(HELD_OUT_COMBOS))]
    while True:
        scene = SceneRenderer(image_size, rng)
        scene.add_roads()
        objects: List[SceneObject] = []
        combos = [force] if force else []
        combos += [
            _sample_combo(rng, banned) for _ in range(rng.integers(3, 8))
        ][:7 - len(combos)]
        for colour, kind in combos:
            obj = scene.place(kind, colour, len(objects) + 1)
            if obj is not None:
                objects.append(obj)
        if len(objects) < 3 or (force and objects[0][:2] != force[::-1]):
            continue
        found = candidate_queries(objects, image_size)
        if force:
            found = [
                c for c in found if 0 in c[2] and c[1].kind == force[1]
                and c[1].colour == force[0]
            ]
        if found:
            break
    types = sorted(set(c[0] for c in found))
    weights = np.array([EXPRESSION_TYPE_WEIGHTS[t] for t in types])
    chosen_type = types[rng.choice(len(types), p=weights / weights.sum())]
    pool = [c for c in found if c[0] == chosen_type]
    _, query, targets = pool[rng.integers(len(pool))]
    phrases = [phrase(query, rng, len(targets))]
    if rng.random() < 0.5:
        others = [c for c in found if c[2] == targets and c[1] != query]
        if others:
            extra = phrase(others[rng.integers(len(others))][1], rng,
                           len(targets))
            if extra.text != phrases[0].text:
                phrases.append(extra)
    mask = np.isin(scene.labels, [t + 1 for t in targets])
    record = dict(
        type=chosen_type,
        num_targets=len(targets),
        target_combos=sorted(
            set((objects[t].colour, objects[t].kind) for t in targets)),
        object_combos=sorted(set((o.colour, o.kind) for o in objects)))
    return Scene(scene.finish(), mask.astype(np.uint8) * 255, phrases, record)
