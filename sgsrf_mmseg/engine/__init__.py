from ..utils.checkpoint_file import CheckpointError, read_checkpoint
from ..utils.strict_loading import load_exactly
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks
from .optimizers import *  # noqa: F401,F403
from .optimizers import __all__ as _optimizers
from .strict_runner import (NothingToResumeError, StrictRunner,
                            latest_checkpoint)

__all__ = [
    'CheckpointError', 'NothingToResumeError', 'StrictRunner',
    'latest_checkpoint', 'load_exactly', 'read_checkpoint', *_hooks,
    *_optimizers
]
