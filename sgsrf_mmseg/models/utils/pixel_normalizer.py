"""Normalisation of 0..255 pixels inside a tower, never applied twice."""
from typing import Optional

import torch
import torch.nn as nn


class PixelNormalizer(nn.Module):
    """``(img - mean) / std`` with a tower's own statistics.

    SGSRF's two image towers (CLIP and SAM) were trained with different
    pixel statistics and read the same image, so each normalises its own
    0..255 input. An input with negative values cannot be 0..255 pixels:
    a data preprocessor with ``mean``/``std`` has normalised it already,
    and it is refused rather than normalised a second time.

    Args:
        normalize (dict, optional): ``mean`` and ``std``, three values each
            on the 0..255 scale; None passes the input through (the data
            preprocessor normalises).
        owner (str): The tower's name, for the error message.
    """

    def __init__(self, normalize: Optional[dict], owner: str) -> None:
        super().__init__()
        self.owner = owner
        self.enabled = normalize is not None
        stats = normalize or dict(mean=(0., 0., 0.), std=(1., 1., 1.))
        for name in ('mean', 'std'):
            if len(stats[name]) != 3:
                raise ValueError(f'{owner}: normalize.{name} needs 3 values, '
                                 f'got {stats[name]}')
            self.register_buffer(
                name,
                torch.tensor(stats[name],
                             dtype=torch.float32).view(1, 3, 1, 1),
                persistent=False)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """Normalise ``img`` (B, 3, H, W) unless disabled."""
        if not self.enabled:
            return img
        if bool((img < 0).any()):
            raise ValueError(
                f'{self.owner} normalises its 0..255 input itself (its '
                '`normalize` argument) but got negative values: the data '
                'preprocessor has normalised the images already. Set '
                'model.data_preprocessor.mean=None and std=None, or set '
                f'normalize=None on the {self.owner} and give the data '
                "preprocessor the tower's mean and std.")
        return (img - self.mean) / self.std
