"""Read official weight files and load them strictly.

Which formats can run code when read:

* ``.safetensors``: never (plain tensors).
* ``.pth`` / ``.bin`` / ``.pt`` state dicts: read with
  ``torch.load(weights_only=True)``, which refuses anything but tensors and
  plain containers.
* OpenAI's TorchScript ``.pt`` archives: read with ``torch.jit.load``, which
  deserialises TorchScript code; only when the caller allows it
  (``allow_torchscript=True``), because such an archive holds a program.
"""
import os.path as osp
import zipfile
from typing import Dict, Iterable, Optional

import torch
import torch.nn as nn


def _is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a zip archive holding TorchScript code."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(
            name.split('/', 1)[-1].startswith('code/')
            for name in archive.namelist())


def read_state_dict(path: str,
                    allow_torchscript: bool = False
                    ) -> Dict[str, torch.Tensor]:
    """Read a state dict from a weight file, without running pickled code.

    Args:
        path (str): A ``.safetensors`` file, a ``torch.save``-d state dict
            (optionally wrapped under ``'state_dict'`` or ``'model'``), or,
            with ``allow_torchscript``, a TorchScript archive.
        allow_torchscript (bool): Accept TorchScript archives (OpenAI CLIP).
            Defaults to False.

    Returns:
        dict[str, Tensor]: The state dict.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'weight file {path} does not exist')
    if path.endswith('.safetensors'):
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(path, device='cpu')
        except SafetensorError as err:
            raise ValueError(f'could not read {path} as safetensors (corrupt '
                             f'or cut short?): {err}') from err
    if _is_torchscript_archive(path):
        if not allow_torchscript:
            raise ValueError(
                f'{path} is a TorchScript archive (it holds code); it is '
                'only accepted where an OpenAI CLIP file is expected')
        return torch.jit.load(path, map_location='cpu').state_dict()
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except EOFError as err:
        raise ValueError(f'could not read {path}: the file is empty or cut '
                         'short') from err
    except Exception as err:
        raise ValueError(
            f'could not read {path} as a weights-only state dict: {err}'
        ) from err
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path} does not hold a state dict')
    return checkpoint


def select_prefix(state_dict: Dict[str, torch.Tensor],
                  prefix: str) -> Dict[str, torch.Tensor]:
    """Keep the entries under ``prefix`` (with the prefix stripped)."""
    return {
        k[len(prefix):]: v
        for k, v in state_dict.items() if k.startswith(prefix)
    }


def load_state_dict_strict(
        module: nn.Module,
        state_dict: Dict[str, torch.Tensor],
        source: str,
        ignore_missing: Optional[Iterable[str]] = None) -> None:
    """Load ``state_dict`` into ``module``; any key mismatch is an error.

    Args:
        module (nn.Module): Destination.
        state_dict (dict): Source tensors, already renamed and resized.
        source (str): What the tensors came from (a file name), for errors.
        ignore_missing (Iterable[str], optional): Names of ``module`` that
            are not expected in the file (e.g. modules the plugin adds).
            Defaults to None.
    """
    expected = set(module.state_dict())
    skip = set(ignore_missing or ())
    missing = sorted(expected - set(state_dict) - skip)
    unexpected = sorted(set(state_dict) - expected)
    if missing or unexpected:
        raise KeyError(f'{source} does not match {type(module).__name__}: '
                       f'missing keys {missing}, unexpected keys '
                       f'{unexpected}')
    own = module.state_dict()
    wrong_shape = [
        f'{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state_dict.items() if v.shape != own[k].shape
    ]
    if wrong_shape:
        raise ValueError(f'{source}: tensors of the wrong shape: ' +
                         '; '.join(wrong_shape))
    module.load_state_dict(state_dict, strict=not skip)
