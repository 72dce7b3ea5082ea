"""Precision benchmark results as a markdown block for the documentation
(``tools/analysis/render_results.py precision``) and the tool's output."""
from typing import Optional

from ...utils.portable_paths import PortablePaths
from ..results_tables import config_name, fmt, load_json, markdown_table
from .precision_record import PrecisionResults


def load_precision_results(path: str) -> PrecisionResults:
    """Read the ``--out`` JSON of ``benchmark.py --precisions``."""
    return PrecisionResults.from_dict(load_json(path), path)


def precision_tables(results: PrecisionResults) -> str:
    """Predict times, agreement and scene times of one run, in markdown."""
    r = results
    label = f'`{config_name(r.config)}`, {r.input_size} px, {r.device}'
    floors = {f.batch_size: f.ms_per_image for f in r.floor}
    parts = [
        markdown_table([
            f'precision ({label})', 'batch', 'predict ms/image',
            'fp32 towers ms/image', 'predict / towers'
        ], [[
            p.precision, p.batch_size,
            fmt(p.ms_per_image, 1),
            fmt(floors.get(p.batch_size), 1),
            fmt(p.over_floor, 3) if not p.error else p.error
        ] for p in r.predict])
    ]
    if r.agreement:
        parts.append(
            markdown_table([
                'against fp32 (random weights)', 'max abs prob. diff',
                'mask logit cosine', 'mask IoU'
            ], [[
                a.precision,
                fmt(a.max_abs_prob_diff, 4),
                fmt(a.logit_cosine, 5),
                fmt(a.mask_iou, 4)
            ] for a in r.agreement]))
    if r.scene:
        side = r.scene_size
        parts.append(
            markdown_table([
                f'GeoTIFF {side} x {side} px (tiles {r.tile_size} px)',
                'tiles per pass', 'tiles', 'seconds', 'speedup'
            ], [[
                s.precision, s.batch_size, s.tiles,
                fmt(s.seconds, 1),
                fmt(s.speedup)
            ] for s in r.scene]))
    return '\n\n'.join(parts)


def render_precision_block(path: str,
                           results: PrecisionResults,
                           paths: Optional[PortablePaths] = None) -> str:
    """The tables of :func:`precision_tables` and how they were measured.

    Args:
        path (str): The results file, named under the tables.
        results (PrecisionResults): Its results.
        paths (PortablePaths, optional): How paths are written. Defaults to
            relative to this repository (or ``$WORK``).

    Returns:
        str: The markdown block.
    """
    paths = paths or PortablePaths()
    r = results
    measured = (
        f'Measured with `{paths.command(r.command or "")}` on '
        f'{r.device_name} (torch {r.torch}, threads {r.threads}, warmup '
        f'{r.warmup}, iters {r.iters}; `{paths.path(path)}`).')
    return paths.refuse_absolute(
        precision_tables(r) + '\n\n' + measured, 'the precision block')
