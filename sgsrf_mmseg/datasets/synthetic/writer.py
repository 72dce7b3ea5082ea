"""Writing the synthetic dataset into a folder, safely.

The files are written in the RefSegRS layout (``images/<id>.tif``,
``masks/<id>.tif`` with 0/255, ``output_phrase_{train,val,test}.txt``) and
read back through :class:`RefSegRSDataset`; every referent of a scene is
its own id, and the ids of a scene share its image (written once,
hard-linked for the others where the file system allows, else copied).
Beside each phrase file, ``output_phrase_{split}.gold_parses.json`` holds
the gold dependency tree of every expression (the shared parse file format:
``format``, ``parser: 'gold'``, ``parses`` keyed by the expression) and
``output_phrase_{split}.tags.json`` the test groups of every expression
(``{"format": 1, "tags": {"<id>": {"<expression>": ["relation", ...]}}}``)
and ``output_phrase_{split}.landmarks.json`` the boxes of the landmarks
each expression's relation names (``{"format": 1, "landmarks": {"<id>":
{"<expression>": [[x0, y0, x1, y1], ...]}}}``, inclusive pixel corners;
an empty list for an expression without a relation).

The generator writes only into a folder that is missing, empty or marked as
its own (:mod:`.marker`); regenerating removes only the files its marker
lists, never whole folders, and never replaces a file it did not write.
"""
import json
import os
import os.path as osp
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

import cv2
from mmengine.logging import print_log

from ...utils.dependency_parse import DependencyParse
from ...utils.folder_lock import file_lock
from .layout import (GOLD_PARSE_FILE, IMAGE_DIR, LANDMARKS_FILE, MASK_DIR,
                     PHRASE_FILE, TAGS_FILE, dataset_files, scene_ids,
                     scene_rng)
from .marker import (GENERATOR_NAME, LOCK_FILE, ForeignDataError, read_marker,
                     write_marker)
from .params import GENERATOR_VERSION, GeneratorParams
from .queries import landmark_objects
from .referents import TAGS, Expression, Referent
from .scene import Scene, generate_scene
from .vocabulary import HELD_OUT_COMBOS, KIND_COLOURS, KINDS


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link ``target`` to ``source``; copy where links are refused."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _write_scene(root: str, ids: List[str], scene: Scene) -> None:
    # images uncompressed (noise compresses badly and slowly), masks LZW
    image = osp.join(root, IMAGE_DIR, ids[0] + '.tif')
    if not cv2.imwrite(image, cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR),
                       [cv2.IMWRITE_TIFF_COMPRESSION, 1]):
        raise OSError(f'cannot write {image}')
    for name in ids[1:]:
        _link_or_copy(image, osp.join(root, IMAGE_DIR, name + '.tif'))
    for name, mask in zip(ids, scene.masks):
        path = osp.join(root, MASK_DIR, name + '.tif')
        if not cv2.imwrite(path, mask, [cv2.IMWRITE_TIFF_COMPRESSION, 5]):
            raise OSError(f'cannot write {path}')


def _write_json_lines(path: str, head: str, entries: Dict[str, str]) -> None:
    """A JSON object ``head + {entries}}`` with one entry a line."""
    body = ',\n'.join(f'  {json.dumps(key)}: {value}'
                      for key, value in entries.items())
    with open(path, 'w', encoding='utf-8') as f:
        f.write(head + '{\n' + body + '\n}}\n')


def _write_gold_parses(path: str, parses: Dict[str, DependencyParse]) -> None:
    """A parse file with one expression per line."""
    _write_json_lines(path, '{"format": 1, "parser": "gold", "parses": ', {
        text: json.dumps(parse.to_dict())
        for text, parse in parses.items()
    })


def _write_by_id(path: str, key: str, by_id: Dict[str, dict]) -> None:
    """A file of per-expression entries (tags, landmarks), one id a line."""
    _write_json_lines(path, f'{{"format": 1, "{key}": ', {
        name: json.dumps(by_text)
        for name, by_text in by_id.items()
    })


def _landmark_boxes(scene: Scene, referent: Referent, expression: Expression,
                    image_size: int) -> List[List[int]]:
    """The boxes of the landmarks an expression's relation names."""
    return [
        list(scene.objects[i].box) for i in landmark_objects(
            expression.query, referent.targets, scene.objects, image_size)
    ]


def _write_split(root: str, params: GeneratorParams, split: str,
                 ids_of_scenes: List[List[str]],
                 pool: ThreadPoolExecutor) -> dict:
    """Generate and write the scenes of a split; return its statistics."""
    lines, parses, tags, landmarks, held_out_ids, jobs = [], {}, {}, {}, [], []
    types, groups, plans = Counter(), Counter(), Counter()
    object_combos, target_combos = set(), set()
    for i, ids in enumerate(ids_of_scenes):
        scene = generate_scene(
            scene_rng(params, split, i), params.image_size, split, len(ids))
        jobs.append(pool.submit(_write_scene, root, ids, scene))
        for name, referent, combos in zip(ids, scene.referents,
                                          scene.record['target_combos']):
            tags[name], landmarks[name] = {}, {}
            for expression in referent.expressions:
                text = expression.phrase.text
                lines.append(f'{name} {text}')
                parses[text] = expression.phrase.to_parse()
                tags[name][text] = list(expression.tags)
                landmarks[name][text] = _landmark_boxes(
                    scene, referent, expression, params.image_size)
                types[expression.type] += 1
                groups.update(expression.tags)
            target_combos.update(combos)
            if set(combos) & set(HELD_OUT_COMBOS):
                held_out_ids.append(name)
        plans[scene.record['plan']] += 1
        object_combos.update(scene.record['object_combos'])
    for job in jobs:
        job.result()
    with open(
            osp.join(root, PHRASE_FILE.format(split=split)), 'w',
            encoding='utf-8') as f:
        f.write('\n'.join(lines) + ('\n' if lines else ''))
    _write_gold_parses(
        osp.join(root, GOLD_PARSE_FILE.format(split=split)), parses)
    _write_by_id(osp.join(root, TAGS_FILE.format(split=split)), 'tags', tags)
    _write_by_id(
        osp.join(root, LANDMARKS_FILE.format(split=split)), 'landmarks',
        landmarks)
    held_out = set(held_out_ids)
    return dict(
        scenes=len(ids_of_scenes),
        referents=len(tags),
        expressions=len(lines),
        scene_plans=dict(sorted(plans.items())),
        expression_types=dict(sorted(types.items())),
        expression_groups={tag: groups[tag]
                           for tag in TAGS},
        held_out_pair_expressions=sum(
            line.split(' ', 1)[0] in held_out for line in lines),
        object_combos=sorted(map(list, object_combos)),
        target_combos=sorted(map(list, target_combos)),
        scene_ids=ids_of_scenes,
        held_out_target_ids=held_out_ids)


def _clear(root: str, previous: Optional[dict], files: list) -> None:
    """Remove the files of the previous dataset; refuse to replace others."""
    listed = set(previous['files']) if previous else set()
    clash = [
        f for f in files if f not in listed and osp.lexists(osp.join(root, f))
    ]
    if clash:
        raise ForeignDataError(
            f'refusing to write the synthetic dataset into {root}: '
            f'{len(clash)} file(s) it would write are there and were not '
            f'written by the generator ({", ".join(clash[:5])}'
            f'{" ..." if len(clash) > 5 else ""}). Nothing was written; '
            f'move them away or choose another folder.')
    if previous:
        write_marker(root, dict(previous, complete=False))
        removed = 0
        for name in previous['files']:
            if osp.lexists(osp.join(root, name)):
                os.remove(osp.join(root, name))
                removed += 1
        print_log(
            f'removed {removed} file(s) of the previous synthetic dataset '
            f'in {root}',
            logger='current')


def _generate(root: str, params: GeneratorParams) -> dict:
    """Write the dataset; the caller holds the generation lock."""
    files = dataset_files(params)
    _clear(root, read_marker(root), files)
    header = dict(
        generator=GENERATOR_NAME,
        version=GENERATOR_VERSION,
        complete=False,
        params=params.to_dict())
    write_marker(root, dict(header, files=files))
    for sub in (IMAGE_DIR, MASK_DIR):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    stats = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for split, ids in scene_ids(params).items():
            stats[split] = _write_split(root, params, split, ids, pool)
    marker = dict(
        header,
        complete=True,
        layout='RefSegRS',
        kinds=list(KINDS),
        kind_colours={
            k: list(v)
            for k, v in KIND_COLOURS.items()
        },
        held_out_combos=[list(c) for c in HELD_OUT_COMBOS],
        splits=stats,
        files=files)
    write_marker(root, marker)
    return marker


@contextmanager
def _generation_lock(root: str) -> Iterator[None]:
    """Hold the folder's lock; refuse a foreign folder before writing.

    Taken only to write: the lock file is created without following a link
    planted under its name (:func:`~sgsrf_mmseg.utils.folder_lock.
    file_lock`).
    """
    read_marker(root)
    os.makedirs(root, exist_ok=True)
    with file_lock(osp.join(root, LOCK_FILE)):
        yield


def generate_synthetic_dataset(root: str, **params) -> dict:
    """Generate the synthetic dataset in the RefSegRS layout under ``root``.

    Deterministic: the same parameters give the same files. Each scene
    has 1-3 referents, each its own id (consecutive integers over train,
    val and test, so a scene's ids are consecutive) with the scene's image,
    its target mask (one or several objects) and one or two expressions
    (lines sharing the id). A previous dataset of the generator in ``root``
    is replaced (only the files its marker lists are removed).

    Args:
        root (str): Output folder: missing, empty, or written by the
            generator.
        **params: Fields of :class:`GeneratorParams` (the others take their
            defaults).

    Returns:
        dict: The content written to ``synthetic_info.json``.

    Raises:
        ForeignDataError: ``root`` holds files the generator did not write
            (nothing is written then).
    """
    params = GeneratorParams.from_dict(params)
    with _generation_lock(root):
        return _generate(root, params)


def _reason_to_generate(root: str, marker: Optional[dict],
                        params: GeneratorParams) -> Optional[str]:
    """Why ``root`` must be generated again; None if it is up to date."""
    if marker is None:
        return 'no dataset there yet'
    if marker.get('version') != GENERATOR_VERSION or marker.get(
            'generator') != GENERATOR_NAME:
        return 'it was written by another generator version'
    if not marker.get('complete'):
        return 'the previous generation did not finish'
    if marker.get('params') != params.to_dict():
        return 'it was generated with other parameters'
    missing = [f for f in marker['files'] if not osp.exists(osp.join(root, f))]
    if missing:
        return f'{len(missing)} of its files are missing ({missing[0]}, ...)'
    return None


def ensure_synthetic_dataset(root: str, **params) -> dict:
    """Generate the synthetic dataset unless ``root`` already holds it.

    The dataset is reused when its marker records the same parameters and
    generator version, the generation finished and every listed file is
    there; then nothing is written (not even a lock file: a complete
    dataset on a read-only mount is read as it is). Otherwise it is
    generated again (see :func:`generate_synthetic_dataset`); a file lock
    in ``root`` makes concurrent processes generate once.

    Args:
        root (str): Dataset folder: missing, empty, or written by the
            generator.
        **params: Fields of :class:`GeneratorParams`.

    Returns:
        dict: The dataset's ``synthetic_info.json`` content.

    Raises:
        ForeignDataError: ``root`` holds files the generator did not write.
    """
    params = GeneratorParams.from_dict(params)
    marker = read_marker(root)
    if _reason_to_generate(root, marker, params) is None:
        return marker
    with _generation_lock(root):
        marker = read_marker(root)
        reason = _reason_to_generate(root, marker, params)
        if reason is None:
            return marker
        sizes = params.split_sizes
        print_log(
            f'generating the synthetic dataset in {root} ({reason}): '
            f'{sizes["train"]} train, {sizes["val"]} val, {sizes["test"]} '
            f'test images of {params.image_size} px',
            logger='current')
        return _generate(root, params)
