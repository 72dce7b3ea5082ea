from .clip_image_encoder import CLIPImageEncoder
from .clip_text_encoder import CLIPTextEncoderTower
from .raw_image_backbone import RawImageBackbone

__all__ = ['CLIPImageEncoder', 'CLIPTextEncoderTower', 'RawImageBackbone']
