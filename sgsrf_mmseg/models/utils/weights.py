"""Pretrained weights of the towers: read, select, load strictly.

The towers (CLIP, SAM, mmpretrain) read their official files with the
project's one reader (:func:`~sgsrf_mmseg.utils.checkpoint_file.
read_checkpoint`: no pickled code runs; TorchScript archives only where
OpenAI's CLIP file is expected) and load them with its one strict loader
(:func:`~sgsrf_mmseg.utils.strict_loading.load_exactly`); both raise
:class:`~sgsrf_mmseg.utils.checkpoint_file.CheckpointError` naming the
file.
"""
from typing import Dict, Iterable, Optional

import torch
import torch.nn as nn

from ...utils.checkpoint_file import read_checkpoint, state_dict_of
from ...utils.strict_loading import load_exactly


def read_state_dict(path: str,
                    allow_torchscript: bool = False
                    ) -> Dict[str, torch.Tensor]:
    """The state dict of a weight file, checked to hold only tensors.

    Args:
        path (str): A ``.safetensors`` file, a ``torch.save``-d state dict
            (optionally wrapped under ``'state_dict'`` or ``'model'``), or,
            with ``allow_torchscript``, a TorchScript archive.
        allow_torchscript (bool): Accept TorchScript archives (OpenAI CLIP).
            Defaults to False.

    Returns:
        dict[str, Tensor]: The state dict.
    """
    checkpoint = read_checkpoint(path, allow_torchscript=allow_torchscript)
    return dict(state_dict_of(checkpoint, path))


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
    """Load a tower's tensors with the one strict loader.

    Args:
        module (nn.Module): Destination.
        state_dict (dict): Source tensors, already renamed and resized.
        source (str): What the tensors came from (a file name), for errors.
        ignore_missing (Iterable[str], optional): Names of ``module`` that
            are not expected in the file (e.g. modules the plugin adds).
            Defaults to None.
    """
    load_exactly(
        module, state_dict, source, ignore_missing=ignore_missing or ())
