"""Image detail for SAM's mask decoder at its output resolution."""
import torch
import torch.nn as nn


class MaskDetailStem(nn.Module):
    """A shallow convolution stem on the image, added to SAM's upscaled
    embedding before the hypernetwork reads it.

    SAM's mask decoder draws the mask from its image embedding upscaled
    4x (``output_upscaling``), so detail finer than the encoder's patch
    reaches the mask only through the embedding. This stem reads the
    normalised image itself: ``log2(stride)`` stride-2 3x3 convolutions
    (GELU after each), a 3x3 convolution and GELU, then a 1x1 projection to
    the upscaled embedding's channels. The projection is zero at
    initialisation, so the decoder starts exactly as SAM's (pretrained
    weights keep their masks) and the projection still receives a
    gradient.

    Args:
        out_channels (int): Channels of the upscaled embedding
            (``transformer_dim // 8`` in SAM's decoder).
        stride (int): Image size over the upscaled embedding's size; a
            power of two (2 for an 8 px patch, 4 for SAM's 16 px patch).
        channels (int): Hidden channels. Defaults to 16.
        in_channels (int): Image channels. Defaults to 3.
    """

    def __init__(self,
                 out_channels: int,
                 stride: int,
                 channels: int = 16,
                 in_channels: int = 3) -> None:
        super().__init__()
        if stride < 1 or stride & (stride - 1):
            raise ValueError(f'{type(self).__name__}: the image size must be '
                             f'a power-of-two multiple of the mask size, '
                             f'got a stride of {stride}')
        layers = []
        width = in_channels
        for _ in range(stride.bit_length() - 1):
            layers += [
                nn.Conv2d(width, channels, 3, stride=2, padding=1),
                nn.GELU()
            ]
            width = channels
        layers += [nn.Conv2d(width, channels, 3, padding=1), nn.GELU()]
        self.body = nn.Sequential(*layers)
        self.proj = nn.Conv2d(channels, out_channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """Detail features (B, out_channels, H / stride, W / stride) of the
        normalised image (B, 3, H, W)."""
        return self.proj(self.body(img))
