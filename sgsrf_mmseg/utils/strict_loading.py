"""Load a state dict into a module exactly, or say why not.

One rule for every load of weights: a whole-model checkpoint (testing,
``load_from``, ``--resume``, the inferencer) and the pretrained weights of
the CLIP, SAM and mmpretrain towers. A state dict that does not fit the
module is a :class:`~sgsrf_mmseg.utils.checkpoint_file.CheckpointError`
naming the file and every problem, and nothing is loaded:

* missing or unexpected keys, tensors of the wrong shape;
* tensors of another kind of number than the module's (integers where the
  module has floating point weights, as a checkpoint saved with the wrong
  dtype has: loading would truncate every weight); another precision of the
  same kind (fp16 weights into an fp32 model) is cast, as torch does;
* floating point tensors with NaN or infinite values where the module's own
  tensor is finite (a diverged or damaged checkpoint, which would give
  empty masks and zero scores without a word).
"""
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import torch
import torch.nn as nn

from .checkpoint_file import CheckpointError

_SHOWN = 10  # keys listed per kind of problem
#: mmengine's default key revision: a leading ``module.`` of a wrapper.
MODULE_PREFIX = (r'^module\.', '')
#: The way out, at the end of every message.
_WAY_OUT = ('use weights of this model (a checkpoint of the same config, or '
            'the pretrained file it expects); a damaged or diverged file '
            'must be replaced')


def _listed(kind: str, keys: List[str]) -> str:
    more = f', and {len(keys) - _SHOWN} more' if len(keys) > _SHOWN else ''
    return f'{len(keys)} {kind} ({", ".join(keys[:_SHOWN])}{more})'


def _number_kind(tensor: torch.Tensor) -> str:
    if tensor.dtype == torch.bool:
        return 'bool'
    if tensor.is_complex():
        return 'complex'
    return 'float' if tensor.is_floating_point() else 'int'


def _nonfinite(value: torch.Tensor, own: torch.Tensor) -> int:
    """Non-finite values of ``value`` where ``own`` is all finite."""
    if not value.is_floating_point() or not own.is_floating_point():
        return 0
    bad = int((~torch.isfinite(value)).sum())
    return bad if bad and bool(torch.isfinite(own).all()) else 0


def mismatches(
    module: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    ignore_missing: Iterable[str] = ()
) -> List[str]:
    """What keeps ``state_dict`` from loading exactly into ``module``.

    Args:
        module (nn.Module): The destination.
        state_dict (Mapping[str, Tensor]): Name -> tensor.
        ignore_missing (Iterable[str]): Names of ``module`` that the file
            need not hold (modules added to a pretrained tower). Defaults to
            none.

    Returns:
        list[str]: One entry per kind of problem (see the module
        docstring); empty when it fits.
    """
    own = module.state_dict()
    skip = set(ignore_missing)
    missing = sorted(
        key for key in own if key not in state_dict and key not in skip
        and not key.endswith('num_batches_tracked'))
    unexpected = sorted(key for key in state_dict if key not in own)
    shared = [key for key in state_dict if key in own]
    wrong_shape = [
        f'{key}: checkpoint {tuple(state_dict[key].shape)} vs model '
        f'{tuple(own[key].shape)}' for key in shared
        if tuple(state_dict[key].shape) != tuple(own[key].shape)
    ]
    wrong_kind = [
        f'{key}: checkpoint {state_dict[key].dtype} vs model '
        f'{own[key].dtype}' for key in shared
        if _number_kind(state_dict[key]) != _number_kind(own[key])
    ]
    nonfinite = [
        f'{key}: {count} of {state_dict[key].numel()}' for key in shared
        for count in [_nonfinite(state_dict[key], own[key])] if count
    ]
    problems = []
    for kind, keys in (('missing keys', missing), ('unexpected keys',
                                                   unexpected),
                       ('tensors of the wrong shape', wrong_shape),
                       ('tensors of another kind of number', wrong_kind),
                       ('tensors with NaN or infinite values', nonfinite)):
        if keys:
            problems.append(_listed(kind, keys))
    return problems


def revised(state_dict: Mapping[str, torch.Tensor],
            revise_keys: Sequence[Tuple[str, str]]) -> 'OrderedDict':
    """``state_dict`` with ``(pattern, replacement)`` applied to its keys."""
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, key), value)
                                 for key, value in state_dict.items())
    state_dict = OrderedDict(state_dict)
    state_dict._metadata = metadata
    return state_dict


def load_exactly(
    module: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    source: str,
    target: str = '',
    revise_keys: Sequence[Tuple[str, str]] = (),
    ignore_missing: Iterable[str] = ()
) -> None:
    """Load ``state_dict`` into ``module``; any mismatch is an error.

    Args:
        module (nn.Module): The destination (not a wrapper).
        state_dict (Mapping[str, Tensor]): The tensors, as
            :func:`~sgsrf_mmseg.utils.checkpoint_file.state_dict_of`
            returns them (renamed and resized where the caller adapts a
            pretrained file).
        source (str): Where they came from (the file), for the error.
        target (str): What ``module`` is to the user, for the error.
            Defaults to its class name.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            applied to the keys first, as in mmengine. Defaults to none.
        ignore_missing (Iterable[str]): Names of ``module`` the file need
            not hold; the module keeps its own values there. Defaults to
            none.

    Raises:
        CheckpointError: The state dict does not fit (nothing is loaded).
    """
    state_dict = revised(state_dict, revise_keys)
    skip = set(ignore_missing)
    problems = mismatches(module, state_dict, skip)
    if problems:
        raise CheckpointError(f'cannot load checkpoint {source} into '
                              f'{target or type(module).__name__}: ' +
                              '; '.join(problems) + f'; {_WAY_OUT}')
    own: Dict[str, torch.Tensor] = module.state_dict()
    for key, value in own.items():  # skipped names, older BN checkpoints
        state_dict.setdefault(key, value)
    module.load_state_dict(state_dict, strict=True)
