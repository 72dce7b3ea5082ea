"""Make MMSegmentation 1.2.2 work on mmcv-lite and mmengine 0.10.7 on torch
>= 2.6.

Two fixes, applied by :func:`apply_compat` (``import sgsrf_mmseg`` calls
it before anything imports ``mmseg.models``):

1. ``mmcv.ops`` without compiled extensions. ``mmseg.models`` imports
   ``mmcv.ops`` (``point_sample`` and a few CUDA ops), and mmcv-lite ships the
   Python files of ``mmcv.ops`` but not ``mmcv._ext``, so ``import mmcv.ops``
   fails. When ``mmcv._ext`` is missing, a package object for ``mmcv.ops`` is
   put in ``sys.modules`` without running its ``__init__``; the pure-Python
   ``point_sample`` is loaded for real, and every other name is a placeholder
   that raises a clear error when it is called. With a compiled mmcv nothing
   changes.
2. Checkpoints of a run under torch >= 2.6. mmengine 0.10.7 calls
   ``torch.load`` without ``weights_only``; since torch 2.6 that means
   ``weights_only=True``, which refuses what mmengine pickles into a
   checkpoint (``HistoryBuffer``, numpy scalars and arrays), so ``--resume``
   fails. The local-file loader of mmengine is replaced by the project's one
   reader (:mod:`sgsrf_mmseg.utils.checkpoint_file`, whatever the torch
   version), which keeps ``weights_only=True`` and allows exactly those
   types, so a checkpoint that would run code is still refused.
"""
import importlib
import importlib.util
import os.path as osp
import sys
import types

from .checkpoint_file import read_checkpoint

_MMCV_OPS_PURE_PYTHON = ('point_sample', )


def has_compiled_mmcv() -> bool:
    """Whether the installed mmcv has its compiled extension ``mmcv._ext``."""
    return importlib.util.find_spec('mmcv._ext') is not None


class _NeedsCompiledMMCV:
    """Placeholder for an ``mmcv.ops`` name only compiled mmcv has."""

    def __init__(self, name: str):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f'mmcv.ops.{self.__name__} needs a compiled mmcv (full mmcv '
            '2.0.0rc4..2.1.x with ops); this environment has mmcv-lite. '
            'sgsrf_mmseg itself does not use it.')


def _install_mmcv_ops_shim() -> None:
    """Register a stand-in ``mmcv.ops`` package without ``mmcv._ext``."""
    if 'mmcv.ops' in sys.modules or has_compiled_mmcv():
        return
    import mmcv
    ops_dir = osp.join(osp.dirname(mmcv.__file__), 'ops')
    ops = types.ModuleType('mmcv.ops')
    ops.__path__ = [ops_dir]
    ops.__package__ = 'mmcv.ops'
    ops.__file__ = osp.join(ops_dir, '__init__.py')
    ops.__getattr__ = _missing_op
    sys.modules['mmcv.ops'] = ops
    mmcv.ops = ops
    for name in _MMCV_OPS_PURE_PYTHON:
        module = importlib.import_module(f'mmcv.ops.{name}')
        setattr(ops, name, getattr(module, name))


def _missing_op(name: str):
    """Module-level ``__getattr__`` of the ``mmcv.ops`` stand-in."""
    if name.startswith('__'):
        raise AttributeError(name)
    return _NeedsCompiledMMCV(name)


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """mmengine's loader of local files: the project's one reader.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str, optional): Same as :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint (see
        :func:`~sgsrf_mmseg.utils.checkpoint_file.read_checkpoint`).
    """
    return read_checkpoint(filename, map_location)


def _install_checkpoint_loader() -> None:
    """Route mmengine's local checkpoint loading through the safe loader."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)


def apply_compat() -> None:
    """Apply the fixes this environment needs; a no-op where none is."""
    _install_mmcv_ops_shim()
    _install_checkpoint_loader()
