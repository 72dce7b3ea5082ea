"""Read a checkpoint or weight file without running code; one error type.

Every file of weights the project reads goes through
:func:`read_checkpoint`: the checkpoints of a run (testing, ``load_from``,
``--resume``, the inferencer), the pretrained CLIP, SAM and mmpretrain
weights, and mmengine's own loading of local files (registered by
:mod:`sgsrf_mmseg.utils.compat`). What each format may hold:

* ``.safetensors``: plain tensors, nothing else can be in the file.
* ``torch.save`` files: read with ``torch.load(weights_only=True)``, which
  refuses anything but tensors and plain containers, plus the types mmengine
  writes into a training checkpoint (its message hub's ``HistoryBuffer``,
  numpy scalars and arrays; see :func:`mmengine_checkpoint_safe_globals`).
* TorchScript archives (OpenAI's CLIP ``.pt``): read with
  ``torch.jit.load``, which deserialises a program, so only where the
  caller allows it (``allow_torchscript=True``).

Any problem is a :class:`CheckpointError` whose message starts with the
file: ``cannot read checkpoint <path>: <why>`` for a file that cannot be
read, ``checkpoint <path>: <what is wrong>`` for one whose content is not a
state dict of tensors.
"""
import os.path as osp
import pickle
import zipfile
from collections.abc import Mapping
from typing import Dict, List

import torch


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model."""


def _history_buffer_getattr(owner, name):
    """Stand-in for ``getattr`` when unpickling: only what mmengine needs.

    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` and the like; a general ``getattr``
    would open the safe loader to much more than that.
    """
    from mmengine.logging import HistoryBuffer
    if owner is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not allowed in a checkpoint')


def mmengine_checkpoint_safe_globals() -> List[object]:
    """Types mmengine writes into a training checkpoint, safe to unpickle."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    dtype_classes = [
        type(np.dtype(name))
        for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                     'uint16', 'uint32', 'uint64', 'float16', 'float32',
                     'float64')
    ]
    return [
        HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
        multiarray.scalar, (_history_buffer_getattr, 'builtins.getattr')
    ] + dtype_classes


def _is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a zip archive holding TorchScript code."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(
            name.split('/', 1)[-1].startswith('code/')
            for name in archive.namelist())


def _read_safetensors(path: str) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    try:
        return load_file(path, device='cpu')
    except SafetensorError as err:
        raise CheckpointError(f'cannot read checkpoint {path}: not a whole '
                              f'safetensors file (corrupt or cut short?): '
                              f'{err}') from err


def _read_torch_file(path: str, map_location) -> object:
    try:
        with torch.serialization.safe_globals(
                mmengine_checkpoint_safe_globals()):
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except EOFError as err:
        raise CheckpointError(f'cannot read checkpoint {path}: the file is '
                              'empty or cut short') from err
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'cannot read checkpoint {path}: it holds objects that are '
            'neither tensors nor the types mmengine writes into a '
            f'checkpoint, and unpickling them could run code; refused '
            f'({err})') from err
    except (RuntimeError, ValueError, OSError) as err:
        raise CheckpointError(f'cannot read checkpoint {path}: {err}') from err


def _read_remote(filename: str, map_location) -> object:
    """A URI that mmengine's loaders read (``http://``, ``s3://`` ...)."""
    from mmengine.runner import CheckpointLoader
    try:
        return CheckpointLoader.load_checkpoint(filename, map_location)
    except Exception as err:  # whatever the remote loader raises
        raise CheckpointError(
            f'cannot read checkpoint {filename}: {err}') from err


def read_checkpoint(filename: str,
                    map_location='cpu',
                    allow_torchscript: bool = False) -> dict:
    """Read a checkpoint or weight file without running code from it.

    Args:
        filename (str): A local file (``.safetensors``, a ``torch.save``
            file, or with ``allow_torchscript`` a TorchScript archive), or a
            URI mmengine's ``CheckpointLoader`` reads.
        map_location (str | callable): As in :func:`torch.load`.
            Defaults to 'cpu'.
        allow_torchscript (bool): Accept TorchScript archives (OpenAI
            CLIP), which hold a program. Defaults to False.

    Returns:
        dict: The checkpoint (a state dict, or a dict holding one).

    Raises:
        CheckpointError: The file is missing, unreadable, refused, or holds
            something other than a dict.
    """
    filename = str(filename)
    if '://' in filename:
        checkpoint = _read_remote(filename, map_location)
    elif not osp.isfile(filename):
        raise CheckpointError(f'checkpoint {filename} not found')
    elif filename.endswith('.safetensors'):
        checkpoint = _read_safetensors(filename)
    elif _is_torchscript_archive(filename):
        if not allow_torchscript:
            raise CheckpointError(
                f'cannot read checkpoint {filename}: it is a TorchScript '
                'archive (it holds code); it is only accepted where an '
                'OpenAI CLIP file is expected')
        checkpoint = torch.jit.load(
            filename, map_location=map_location).state_dict()
    else:
        checkpoint = _read_torch_file(filename, map_location)
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(
            f'checkpoint {filename} holds a {type(checkpoint).__name__}, '
            'not a state dict')
    return checkpoint


def state_dict_of(checkpoint: Mapping,
                  filename: str) -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint, checked to map names to tensors.

    Args:
        checkpoint (Mapping): As :func:`read_checkpoint` returns it: a
            state dict, or a dict holding one under ``'state_dict'`` (or
            ``'model'``).
        filename (str): Where it came from, for the error.

    Returns:
        dict[str, Tensor]: The state dict (its ``_metadata`` kept).

    Raises:
        CheckpointError: The state dict is not a mapping, or holds keys
            that are not strings or values that are not tensors.
    """
    state_dict, where = checkpoint, 'its content'
    for key in ('state_dict', 'model'):
        if key in checkpoint:
            state_dict, where = checkpoint[key], f"'{key}'"
            break
    if not isinstance(state_dict, Mapping):
        raise CheckpointError(
            f'checkpoint {filename}: {where} is a '
            f'{type(state_dict).__name__}, not a dict of tensors; it is not '
            'a checkpoint of a model')
    not_tensors = [
        f'{key!r} ({type(value).__name__})'
        for key, value in state_dict.items()
        if not isinstance(key, str) or not isinstance(value, torch.Tensor)
    ]
    if not_tensors:
        more = (f', and {len(not_tensors) - 5} more'
                if len(not_tensors) > 5 else '')
        raise CheckpointError(
            f'checkpoint {filename}: {len(not_tensors)} entries of {where} '
            f'are not tensors ({", ".join(not_tensors[:5])}{more}); it is not '
            'a checkpoint of a model')
    return state_dict
