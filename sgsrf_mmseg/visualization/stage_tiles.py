"""The pictures of the stage panels, one small titled tile each.

:func:`stage_tiles` turns a :class:`StagePanels` into :class:`PanelTile` s:
each CCR block's attention of each content word, the grounding cue, GPG's
prompts and dense prompt, each grounding adapter's modulation and the final
mask. Maps on a coarse grid are enlarged with nearest-neighbour
interpolation, so each drawn cell is one cell of the model. The figure
(:mod:`.stage_figure`) and the web fragment (:mod:`.stage_html`) lay these
tiles out.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .overlay import ascii_safe, draw_mask_overlay
from .stage_panels import StagePanels

FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Side of a tile's picture in pixels.
TILE = 160
_POINT_COLOURS = {1: (0, 255, 0), 0: (255, 0, 0)}
_BOX_COLOUR = (255, 255, 0)


@dataclass
class PanelTile:
    """One picture of the stage panels.

    Attributes:
        kind (str): 'attention', 'cue', 'prompts', 'dense', 'modulation'
            or 'mask'.
        title (str): What it shows (e.g. ``block 1: "tank"``).
        caption (str): Its scale or value (e.g. ``max 0.42``).
        image (np.ndarray): ``(TILE, TILE * W / H, 3)`` uint8 RGB.
        block (int, optional): CCR block (attention) or SAM block
            (modulation). Defaults to None.
        word (str, optional): The word of an attention tile.
            Defaults to None.
    """
    kind: str
    title: str
    caption: str
    image: np.ndarray
    block: Optional[int] = None
    word: Optional[str] = None


def tile_size(image: np.ndarray) -> Tuple[int, int]:
    """(width, height) of a tile of ``image``: :data:`TILE` px high."""
    height, width = image.shape[:2]
    return max(1, int(round(TILE * width / height))), TILE


def heat_overlay(image: np.ndarray,
                 values: np.ndarray,
                 vmax: Optional[float] = None,
                 colormap: int = cv2.COLORMAP_JET,
                 alpha: float = 0.6) -> np.ndarray:
    """A map in colour over a greyed copy of the image, tile sized.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        values (np.ndarray): ``(h, w)`` map over the whole image.
        vmax (float, optional): Value drawn in the top colour (0 at the
            bottom); None takes the map's maximum. Defaults to None.
        colormap (int): OpenCV colour map. Defaults to JET.
        alpha (float): Opacity of the map. Defaults to 0.6.

    Returns:
        np.ndarray: Tile-sized RGB picture.
    """
    size = tile_size(image)
    grey = cv2.cvtColor(
        cv2.cvtColor(
            cv2.resize(image, size, interpolation=cv2.INTER_AREA),
            cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    values = np.nan_to_num(np.asarray(values, np.float32))
    top = float(values.max()) if vmax is None else float(vmax)
    scaled = np.clip(values / top, 0, 1) if top > 0 else np.zeros_like(values)
    cells = cv2.resize(
        np.round(scaled * 255).astype(np.uint8),
        size,
        interpolation=cv2.INTER_NEAREST)
    heat = cv2.cvtColor(cv2.applyColorMap(cells, colormap), cv2.COLOR_BGR2RGB)
    return np.round(grey * (1 - alpha) + heat * alpha).astype(np.uint8)


def _prompt_tile(panels: StagePanels) -> np.ndarray:
    """The input image with GPG's points and box."""
    size = tile_size(panels.image)
    out = cv2.resize(panels.image, size, interpolation=cv2.INTER_AREA)
    width, height = size
    if panels.box is not None:
        x0, y0, x1, y1 = panels.box
        cv2.rectangle(out, (int(x0 * width), int(y0 * height)),
                      (int(x1 * width) - 1, int(y1 * height) - 1), _BOX_COLOUR,
                      2)
    if panels.points is not None:
        labels = panels.point_labels if panels.point_labels is not None \
            else np.ones(len(panels.points))
        for (x, y), label in zip(panels.points, labels):
            centre = (int(x * width), int(y * height))
            colour = _POINT_COLOURS.get(int(label), (255, 255, 255))
            cv2.drawMarker(out, centre, (0, 0, 0), cv2.MARKER_STAR, 15, 4)
            cv2.drawMarker(out, centre, colour, cv2.MARKER_STAR, 13, 2)
    return out


def _attention_tiles(panels: StagePanels) -> List[PanelTile]:
    """One tile per CCR block and content word, one scale per block."""
    tiles = []
    for block in range(panels.num_blocks):
        top = max((float(a.maps[block].max()) for a in panels.attention),
                  default=0.0)
        for word in panels.attention:
            values = word.maps[block]
            role = panels.word_role(word.word_index)
            tiles.append(
                PanelTile(
                    'attention',
                    f'block {block + 1}: "{ascii_safe(word.word)}"' +
                    (f' ({role})' if role else ''),
                    f'max {values.max():.3f} (block max {top:.3f})',
                    heat_overlay(panels.image, values,
                                 top), block + 1, word.word))
    return tiles


def _prompt_caption(panels: StagePanels) -> str:
    kinds = [k for k in panels.prompt_kinds if k in ('points', 'box')]
    if not panels.prompt_kinds:
        return 'no GPG'
    return ('+'.join(kinds) if kinds else 'no points/box in this config')


def stage_tiles(panels: StagePanels) -> List[PanelTile]:
    """Every tile of the panels, in reading order.

    Args:
        panels (StagePanels): What the pass computed.

    Returns:
        list[PanelTile]: Attention tiles (block by block, word by word),
        then the cue, the prompts, the dense prompt (when GPG makes one),
        each adapter's modulation and the mask.
    """
    tiles = _attention_tiles(panels)
    tiles.append(
        PanelTile('cue', 'grounding cue G = sigmoid(logits)',
                  f'0..1, max {panels.cue.max():.3f}',
                  heat_overlay(panels.image, panels.cue, 1.0)))
    tiles.append(
        PanelTile('prompts', 'GPG points / box', _prompt_caption(panels),
                  _prompt_tile(panels)))
    if panels.dense_magnitude is not None:
        tiles.append(
            PanelTile(
                'dense', 'GPG dense prompt |D|',
                f'max {panels.dense_magnitude.max():.3g}',
                heat_overlay(panels.image, panels.dense_magnitude, None,
                             cv2.COLORMAP_VIRIDIS)))
    for adapter in panels.modulation:
        tiles.append(
            PanelTile(
                'modulation', f'SAM adapter after block {adapter.block}',
                f"|x'-x|: max {adapter.magnitude.max():.3g}, "
                f'{100 * adapter.relative:.1f}% of |x|',
                heat_overlay(panels.image, adapter.magnitude, None,
                             cv2.COLORMAP_VIRIDIS), adapter.block))
    mask = cv2.resize(
        panels.mask,
        panels.image.shape[1::-1],
        interpolation=cv2.INTER_NEAREST)
    tiles.append(
        PanelTile(
            'mask', 'final mask', f'score {panels.score:.3f}, '
            f'{100 * panels.mask.mean():.1f}% of the image',
            cv2.resize(
                draw_mask_overlay(panels.image, mask),
                tile_size(panels.image),
                interpolation=cv2.INTER_NEAREST)))
    return tiles
