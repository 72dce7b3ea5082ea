from .overlay import (add_text_banner, ascii_safe, draw_mask_overlay,
                      draw_referring_overlay)
from .referring_visualizer import ReferringSegVisualizer

__all__ = [
    'ReferringSegVisualizer', 'add_text_banner', 'ascii_safe',
    'draw_mask_overlay', 'draw_referring_overlay'
]
