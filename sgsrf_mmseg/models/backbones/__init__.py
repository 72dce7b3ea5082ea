from .clip_image_encoder import CLIPImageEncoder
from .clip_text_encoder import CLIPTextEncoderTower

__all__ = ['CLIPImageEncoder', 'CLIPTextEncoderTower']
