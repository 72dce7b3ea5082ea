from .compat import apply_compat, has_compiled_mmcv, load_local_checkpoint

__all__ = ['apply_compat', 'has_compiled_mmcv', 'load_local_checkpoint']
