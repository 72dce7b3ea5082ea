"""The inputs of a benchmark run: its settings, the model built from its
config (random weights: every ``pretrained`` path and ``Pretrained`` init is
dropped, nothing is read or downloaded) and a synthetic batch.

The batch (random images, expressions and masks) is passed once through the
model's data preprocessor and then reused, so that the numbers are those of
the model, not of data loading.
"""
import copy
import inspect
import random
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ContextManager, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from sgsrf_mmseg.models.input_geometry import (model_input_size,
                                               set_model_input_size)

#: Measurements that can be left out (their JSON fields are then null).
SKIPPABLE = ('infer', 'flops', 'stages', 'floor')
DTYPES = ('fp32', 'bf16')


@dataclass
class BenchmarkSettings:
    """What one benchmark run measures, and how.

    Args:
        config (str): Config file with a ``model`` dict.
        device (str, optional): 'cpu' or 'cuda'; None takes 'cuda' where a
            CUDA device is available. Defaults to None.
        dtype (str): 'fp32', or 'bf16' to run forward passes under
            ``torch.autocast``. Defaults to 'fp32'.
        batch_size (int): Images per batch. Defaults to 8.
        input_size (int, optional): Square input size; it also sets the
            CLIP and SAM image sizes. None takes the config's
            ``model.data_preprocessor.size``. Defaults to None.
        iters (int): Timed iterations per measurement. Defaults to 10.
        warmup (int): Untimed iterations before each measurement.
            Defaults to 2.
        compare (list[str], optional): Switches to flip one at a time (see
            ``comparisons.SWITCHES``); an empty list: every switch the config
            offers; None: no comparison. Defaults to None.
        skip (Sequence[str]): Measurements to leave out, from
            :data:`SKIPPABLE`. Defaults to ().
        seed (int): Seed of the weights and the batch. Defaults to 0.
        cfg_options (dict, optional): Config overrides, dotted key -> value.
            Defaults to None.
    """

    config: str
    device: Optional[str] = None
    dtype: str = 'fp32'
    batch_size: int = 8
    input_size: Optional[int] = None
    iters: int = 10
    warmup: int = 2
    compare: Optional[List[str]] = None
    skip: Sequence[str] = field(default_factory=tuple)
    seed: int = 0
    cfg_options: Optional[dict] = None

    def __post_init__(self) -> None:
        if self.device is None:
            self.device = 'cuda' if torch.cuda.is_available() else 'cpu'
        if self.device not in ('cpu', 'cuda'):
            raise ValueError(
                f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if self.device == 'cuda' and not torch.cuda.is_available():
            raise ValueError('device cuda: no CUDA device is available')
        if self.dtype not in DTYPES:
            raise ValueError(f'dtype must be one of {DTYPES}, got '
                             f'{self.dtype!r}')
        if self.iters < 1 or self.warmup < 0 or self.batch_size < 1:
            raise ValueError('iters and batch_size must be >= 1, '
                             'warmup >= 0')
        if self.input_size is not None and self.input_size < 1:
            raise ValueError(f'input_size must be >= 1, got '
                             f'{self.input_size}')
        unknown = set(self.skip) - set(SKIPPABLE)
        if unknown:
            raise ValueError(f'skip: {sorted(unknown)} are not among '
                             f'{SKIPPABLE}')

    @property
    def torch_device(self) -> torch.device:
        """The device as a ``torch.device``."""
        return torch.device(self.device)

    def autocast(self) -> ContextManager:
        """``torch.autocast`` to bfloat16 for 'bf16', else a null context."""
        if self.dtype == 'bf16':
            return torch.autocast(self.device, dtype=torch.bfloat16)
        return nullcontext()


def strip_weights(cfg: Any) -> None:
    """Drop ``pretrained`` paths and ``Pretrained`` inits, in place."""
    if isinstance(cfg, dict):
        if 'pretrained' in cfg:
            cfg['pretrained'] = None
        init_cfg = cfg.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == \
                'Pretrained':
            cfg['init_cfg'] = None
        elif isinstance(init_cfg, list):
            cfg['init_cfg'] = [
                c for c in init_cfg if c.get('type') != 'Pretrained'
            ] or None
        for value in cfg.values():
            strip_weights(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            strip_weights(value)


def accepts(module_cfg: Optional[dict], name: str) -> bool:
    """Whether the registered class of ``module_cfg`` takes ``name``."""
    if not isinstance(module_cfg, dict) or 'type' not in module_cfg:
        return False
    cls = MODELS.get(module_cfg['type'])
    return cls is not None and name in inspect.signature(cls).parameters


def arg_value(module_cfg: dict, name: str) -> Any:
    """``module_cfg[name]``, else the default of the registered class."""
    if name in module_cfg:
        return module_cfg[name]
    params = inspect.signature(MODELS.get(module_cfg['type'])).parameters
    return params[name].default if name in params else None


def square_input_size(model_cfg: dict, config: str) -> int:
    """The config's square input size (``data_preprocessor.size``)."""
    try:
        h, w = model_input_size(model_cfg)
    except ValueError as error:
        raise ValueError(f'{config}: {error}, or give an input size '
                         '(--input-size)') from error
    if h != w:
        raise ValueError(f'{config}: model.data_preprocessor.size={(h, w)} '
                         'is not square; give a square input size '
                         '(--input-size)')
    return h


def load_model_cfg(settings: BenchmarkSettings) -> Tuple[ConfigDict, int]:
    """Read the model config, without weights, at the benchmark's size.

    Args:
        settings (BenchmarkSettings): ``config``, ``cfg_options`` and
            ``input_size``.

    Returns:
        tuple: The model config (every ``pretrained`` path and
        ``Pretrained`` init dropped, every input size set) and the square
        input size.
    """
    cfg = Config.fromfile(settings.config)
    if settings.cfg_options:
        cfg.merge_from_dict(settings.cfg_options)
    if not isinstance(cfg.get('model'), dict):
        raise ValueError(f'{settings.config} has no model dict')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    strip_weights(model_cfg)
    size = settings.input_size or square_input_size(model_cfg, settings.config)
    set_model_input_size(model_cfg, size)
    return model_cfg, size


def build_model(model_cfg: dict, device: torch.device) -> nn.Module:
    """Build and randomly initialise the model on ``device``."""
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    return model.to(device)


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
