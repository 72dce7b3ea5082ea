from .overlay import (LEGEND_COLORS, add_text_banner, ascii_safe,
                      draw_mask_overlay, draw_referring_overlay,
                      draw_referring_overlays)
from .parse_drawing import draw_parse
from .referring_visualizer import ReferringSegVisualizer
from .stage_figure import draw_stage_figure
from .stage_html import STAGE_CSS, png_data_uri, stage_html
from .stage_panels import AdapterModulation, StagePanels, WordAttention
from .stage_tiles import PanelTile, stage_tiles

__all__ = [
    'LEGEND_COLORS', 'ReferringSegVisualizer', 'add_text_banner', 'ascii_safe',
    'draw_mask_overlay', 'draw_referring_overlay', 'draw_referring_overlays',
    'AdapterModulation', 'PanelTile', 'STAGE_CSS', 'StagePanels',
    'WordAttention', 'draw_parse', 'draw_stage_figure', 'png_data_uri',
    'stage_html', 'stage_tiles'
]
