"""A runner that owns its work dir, loads exactly and resumes only for real."""
import logging
import os
import os.path as osp
import re
from typing import Callable, Sequence

from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from ..utils.checkpoint_file import read_checkpoint, state_dict_of
from ..utils.folder_lock import FolderInUseError, FolderLock
from ..utils.strict_loading import MODULE_PREFIX, load_exactly

#: mmengine's default: a leading ``module.`` of a wrapper is removed.
REVISE_KEYS = (MODULE_PREFIX, )
# Checkpoints as mmengine's CheckpointHook names them by default.
_NUMBERED = re.compile(r'(?:iter|epoch)_(\d+)\.pth')


class NothingToResumeError(FileNotFoundError):
    """``--resume`` was asked for and there is nothing to resume from."""


def latest_checkpoint(work_dir: str) -> str:
    """The checkpoint to resume a run in ``work_dir`` from.

    The one ``<work_dir>/last_checkpoint`` names; without that file (a run
    killed between writing its first checkpoint and that file), the
    ``iter_<n>.pth`` or ``epoch_<n>.pth`` with the largest ``n``.

    Args:
        work_dir (str): A work dir of an earlier run.

    Returns:
        str: The checkpoint path.

    Raises:
        NothingToResumeError: Neither exists, or ``last_checkpoint`` names a
            file that does not exist.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer, encoding='utf-8') as f:
            path = f.read().strip()
        if not osp.isfile(path):
            raise NothingToResumeError(
                f'--resume: {pointer} names {path}, which does not exist')
        return path
    names = os.listdir(work_dir) if osp.isdir(work_dir) else []
    numbered = sorted((int(match.group(1)), name) for name in names
                      for match in [_NUMBERED.fullmatch(name)] if match)
    if numbered:
        return osp.join(work_dir, numbered[-1][1])
    raise NothingToResumeError(
        f'--resume: nothing to resume in {osp.abspath(work_dir)}: it has no '
        'checkpoint (no last_checkpoint, iter_*.pth or epoch_*.pth). Check '
        'the work dir, give the checkpoint (--resume PATH), train without '
        '--resume to start from scratch, or use --auto-resume to resume '
        'only when there is something to resume')


@RUNNERS.register_module()
class StrictRunner(Runner):
    """:class:`mmengine.runner.Runner` that never loses or mixes up a run.

    Set with ``runner_type = 'StrictRunner'`` (the default runtime of this
    project does); MMSegmentation's ``tools/train.py`` and ``test.py``
    honour it as well as ours. Compared with ``Runner``:

    1. The work dir is locked (:class:`~sgsrf_mmseg.utils.folder_lock.
       FolderLock`) from the start of the runner, before anything is written
       there, until ``train``/``val``/``test`` returns; a second run into it
       meanwhile fails with :class:`FolderInUseError` instead of mixing its
       checkpoints, logs and dumped config with the first's. A killed run
       leaves no lock; the ``.partial`` files it left are removed.
    2. Checkpoints (``load_from``, testing, resuming) load exactly: a
       missing, unexpected or mis-shaped key is a
       :class:`~sgsrf_mmseg.utils.checkpoint_file.CheckpointError`, as
       in :class:`~sgsrf_mmseg.apis.ReferringSegInferencer`, never a
       warning followed by numbers of a half-loaded model.
    3. ``resume=True`` without ``load_from`` resumes from the work dir's
       ``last_checkpoint`` and fails (:class:`NothingToResumeError`) when
       there is none; ``resume='auto'`` keeps mmengine's behaviour of
       starting from scratch in that case.

    Arguments are those of :class:`mmengine.runner.Runner`.
    """

    def setup_env(self, env_cfg: dict) -> None:
        """Set up the environment, then take the work dir."""
        super().setup_env(env_cfg)
        self._work_dir_lock = FolderLock(self.work_dir, role='work dir')
        self._take_work_dir()

    def _take_work_dir(self) -> None:
        """Lock the work dir on rank 0; every rank fails if it is in use."""
        message, removed = None, []
        if is_main_process():
            try:
                removed = self._work_dir_lock.acquire()
            except FolderInUseError as err:
                message = str(err)
        shared = [message]
        broadcast_object_list(shared)
        if shared[0] is not None:
            raise FolderInUseError(shared[0])
        for path in removed:
            print_log(
                f'removed {path}, left unfinished by an interrupted run',
                logger='current',
                level=logging.WARNING)

    def _holding_work_dir(self, run: Callable[[], object]) -> object:
        self._take_work_dir()
        try:
            return run()
        finally:
            self._work_dir_lock.release()

    def train(self):
        """Train (see :meth:`mmengine.runner.Runner.train`)."""
        return self._holding_work_dir(super().train)

    def val(self) -> dict:
        """Validate (see :meth:`mmengine.runner.Runner.val`)."""
        return self._holding_work_dir(super().val)

    def test(self) -> dict:
        """Test (see :meth:`mmengine.runner.Runner.test`)."""
        return self._holding_work_dir(super().test)

    def load_or_resume(self) -> None:
        """Load or resume; an explicit resume must find a checkpoint."""
        if not self._has_loaded and self._resume is True \
                and self._load_from is None:
            self._load_from = latest_checkpoint(self.work_dir)
        super().load_or_resume()

    def load_checkpoint(self,
                        filename: str,
                        map_location='cpu',
                        strict: bool = True,
                        revise_keys: Sequence = REVISE_KEYS) -> dict:
        """Load ``filename`` into the model exactly.

        Args:
            filename (str): A path or URI mmengine reads.
            map_location (str | callable): As in :func:`torch.load`.
                Defaults to 'cpu'.
            strict (bool): Must be True: this runner loads nothing
                partially. Defaults to True.
            revise_keys (list): ``(pattern, replacement)`` pairs applied to
                the keys. Defaults to removing a leading ``module.``.

        Returns:
            dict: The checkpoint.
        """
        if not strict:
            raise ValueError('StrictRunner loads checkpoints exactly; use '
                             "mmengine's Runner for a partial load")
        checkpoint = read_checkpoint(filename, map_location)
        state_dict = state_dict_of(checkpoint, filename)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        load_exactly(
            model,
            state_dict,
            filename,
            target=f'the model of the config ({type(model).__name__})',
            revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
