from .clip_image_encoder import CLIPImageEncoder
from .clip_text_encoder import CLIPTextEncoderTower
from .mmpretrain_image_tower import MMPretrainImageTower
from .raw_image_backbone import RawImageBackbone

__all__ = [
    'CLIPImageEncoder', 'CLIPTextEncoderTower', 'MMPretrainImageTower',
    'RawImageBackbone'
]
