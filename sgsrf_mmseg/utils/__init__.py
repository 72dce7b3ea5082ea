from .checkpoint_file import CheckpointError, read_checkpoint, state_dict_of
from .compat import apply_compat, has_compiled_mmcv, load_local_checkpoint
from .strict_loading import load_exactly

__all__ = [
    'CheckpointError', 'read_checkpoint', 'state_dict_of', 'apply_compat',
    'has_compiled_mmcv', 'load_local_checkpoint', 'load_exactly'
]
