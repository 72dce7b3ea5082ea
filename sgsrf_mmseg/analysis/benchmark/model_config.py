"""The model config of a benchmark: read, stripped of weights, resized."""
import copy
import inspect
from typing import Any, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from sgsrf_mmseg.models.input_geometry import (model_input_size,
                                               set_model_input_size)
from .settings import BenchmarkSettings


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
