from .overlay import (LEGEND_COLORS, add_text_banner, ascii_safe,
                      draw_mask_overlay, draw_referring_overlay,
                      draw_referring_overlays)
from .referring_visualizer import ReferringSegVisualizer

__all__ = [
    'LEGEND_COLORS', 'ReferringSegVisualizer', 'add_text_banner', 'ascii_safe',
    'draw_mask_overlay', 'draw_referring_overlay', 'draw_referring_overlays'
]
