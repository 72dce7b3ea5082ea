from .checkpoint_loading import CheckpointError, load_exactly, read_checkpoint
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
