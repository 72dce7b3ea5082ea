"""A synthetic batch: random images, expressions and masks.

Passed once through the model's data preprocessor and then reused, so that
the numbers are those of the model, not of data loading.
"""
import copy
import random

import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

COLOURS = ('white', 'red', 'blue', 'grey', 'dark', 'green', 'large', 'small')
OBJECTS = ('car', 'vehicle', 'building', 'storage tank', 'pond', 'truck',
           'roof', 'road', 'ship', 'tennis court')
PLACES = ('on the left', 'on the right', 'at the top', 'at the bottom right',
          'in the middle', 'near the road', 'next to the pond',
          'beside the large building')


def flat_parse(text: str, root: int) -> dict:
    """A dependency parse of ``text`` with every word attached to ``root``
    (enough for the structure loss to cost what it costs on real parses)."""
    words = text.split()
    return dict(
        words=words,
        spaces=[True] * (len(words) - 1) + [False],
        heads=[root] * len(words),
        deps=['ROOT' if i == root else 'amod' for i in range(len(words))])


def make_batch(batch_size: int, size: int, seed: int) -> dict:
    """Random images (uint8), expressions and binary masks as a data batch.

    Args:
        batch_size (int): Number of samples.
        size (int): Image height and width.
        seed (int): Seed of the images, texts and masks.

    Returns:
        dict: ``inputs`` (list of (3, size, size) uint8) and
        ``data_samples`` (``SegDataSample`` with ``metainfo['text']`` and
        ``['text_parse']``, the shapes and a rectangle in ``gt_sem_seg``).
    """
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(
                0, 256, (3, size, size), generator=gen, dtype=torch.uint8))
        thing = f'the {rng.choice(COLOURS)} {rng.choice(OBJECTS)}'
        text = f'{thing} {rng.choice(PLACES)}'
        parse = flat_parse(text, len(thing.split()) - 1)
        y0, x0 = rng.randrange(size // 2), rng.randrange(size // 2)
        h, w = rng.randint(1, size // 2), rng.randint(1, size // 2)
        mask = torch.zeros(1, size, size, dtype=torch.long)
        mask[:, y0:y0 + h, x0:x0 + w] = 1
        sample = SegDataSample(
            metainfo=dict(
                text=text,
                text_parse=parse,
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None))
        sample.gt_sem_seg = PixelData(data=mask)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def preprocess(model: nn.Module, batch: dict, training: bool) -> dict:
    """Run the model's data preprocessor (or stack and move the images)."""
    preprocessor = getattr(model, 'data_preprocessor', None)
    if preprocessor is not None:
        return preprocessor(copy.deepcopy(batch), training)
    device = next(model.parameters()).device
    return dict(
        inputs=torch.stack(batch['inputs']).float().to(device),
        data_samples=[s.to(device) for s in batch['data_samples']])
