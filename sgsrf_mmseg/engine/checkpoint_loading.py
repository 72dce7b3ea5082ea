"""Read a checkpoint and load it into a model exactly, or say why not.

One rule for every place that loads a whole-model checkpoint: testing,
``load_from``, ``--resume`` (through :class:`StrictRunner`) and the
inferencer. A file that cannot be read, or whose tensors do not match the
model (missing, unexpected or mis-shaped keys), is a
:class:`CheckpointError` naming the file and the keys; nothing is loaded
partially and no warning is left for the user to notice.
"""
import pickle
import re
from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple

import torch.nn as nn
from mmengine.runner import CheckpointLoader

_SHOWN = 10  # keys listed per kind of mismatch
MODULE_PREFIX = [(r'^module\.', '')]  # mmengine's default key revision


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not fit the model."""


def read_checkpoint(filename: str, map_location='cpu') -> dict:
    """Read a checkpoint with mmengine's loaders; errors name the file.

    Args:
        filename (str): Local path or any URI mmengine's
            ``CheckpointLoader`` reads.
        map_location (str | callable): As in :func:`torch.load`.
            Defaults to 'cpu'.

    Returns:
        dict: The checkpoint (a state dict, or a dict holding one under
        ``'state_dict'``).
    """
    try:
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location)
    except FileNotFoundError as err:
        raise CheckpointError(f'checkpoint {filename} not found') from err
    except EOFError as err:
        raise CheckpointError(
            f'cannot read checkpoint {filename}: the file is empty or cut '
            'short') from err
    except (RuntimeError, ValueError, OSError, pickle.UnpicklingError) as err:
        raise CheckpointError(
            f'cannot read checkpoint {filename}: {err}') from err
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f'checkpoint {filename} holds a {type(checkpoint).__name__}, '
            'not a state dict')
    return checkpoint


def _listed(kind: str, keys: List[str]) -> str:
    more = f', and {len(keys) - _SHOWN} more' if len(keys) > _SHOWN else ''
    return f'{len(keys)} {kind} ({", ".join(keys[:_SHOWN])}{more})'


def _state_dict(checkpoint: dict,
                revise_keys: Sequence[Tuple[str, str]]) -> OrderedDict:
    state_dict = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, key), value)
                                 for key, value in state_dict.items())
    state_dict = OrderedDict(state_dict)
    state_dict._metadata = metadata
    return state_dict


def mismatches(model: nn.Module, state_dict: Dict[str, object]) -> List[str]:
    """What keeps ``state_dict`` from loading exactly into ``model``.

    Args:
        model (nn.Module): The destination.
        state_dict (dict): Name -> tensor.

    Returns:
        list[str]: One entry per kind of problem (missing keys, unexpected
        keys, tensors of the wrong shape); empty when it fits.
    """
    own = model.state_dict()
    missing = sorted(
        key for key in own
        if key not in state_dict and not key.endswith('num_batches_tracked'))
    unexpected = sorted(key for key in state_dict if key not in own)
    wrong_shape = [
        f'{key}: checkpoint {tuple(value.shape)} vs model '
        f'{tuple(own[key].shape)}' for key, value in state_dict.items()
        if key in own and hasattr(value, 'shape')
        and tuple(value.shape) != tuple(own[key].shape)
    ]
    problems = []
    for kind, keys in (('missing keys', missing), ('unexpected keys',
                                                   unexpected),
                       ('tensors of the wrong shape', wrong_shape)):
        if keys:
            problems.append(_listed(kind, keys))
    return problems


def load_exactly(
        model: nn.Module,
        checkpoint: dict,
        filename: str,
        revise_keys: Sequence[Tuple[str, str]] = MODULE_PREFIX) -> None:
    """Load a checkpoint's weights into ``model``; any mismatch is an error.

    Args:
        model (nn.Module): The destination (not a wrapper).
        checkpoint (dict): As returned by :func:`read_checkpoint`.
        filename (str): Where it came from, for the error.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            applied to the keys first, as in mmengine. Defaults to removing
            a leading ``module.``.
    """
    state_dict = _state_dict(checkpoint, revise_keys)
    problems = mismatches(model, state_dict)
    if problems:
        raise CheckpointError(
            f'cannot load checkpoint {filename} into the model of the config '
            f'({type(model).__name__}): ' + '; '.join(problems))
    for key, value in model.state_dict().items():  # older BN checkpoints
        state_dict.setdefault(key, value)
    model.load_state_dict(state_dict, strict=True)
