"""A checkpoint hook whose saves survive being killed at any moment."""
import os
import os.path as osp
import random
from contextlib import contextmanager
from typing import Iterator, List

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from ...utils.atomic_file import (atomic_output, is_partial_name,
                                  write_text_atomic)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`CheckpointHook` that never leaves a run unable to resume.

    mmengine's hook deletes the oldest checkpoint before it writes the new
    one, writes the new one in place and then rewrites ``last_checkpoint``;
    a kill in between can leave a truncated file or no valid checkpoint at
    all. This hook, for local directories:

    1. refuses to save weights that are not finite (a poisoned checkpoint),
    2. writes the checkpoint to a hidden ``.<name>.<pid>.<random>.partial``
       file and renames it, so the file appears whole or not at all; a save
       that fails (disk full) removes that file before the error goes on,
       so no hidden file keeps the space or confuses a later ``--resume``,
    3. then replaces ``last_checkpoint`` the same way,
    4. and only then removes checkpoints beyond ``max_keep_ckpts``, never
       one it has just written (mmengine's hook deletes the new checkpoint
       when its list of kept steps, restored from the message hub, already
       holds that step).

    It also stores the random number generator states (Python, numpy,
    torch, CUDA) of the saving process in the checkpoint and restores them
    on ``--resume``, so a resumed run draws the same random numbers as an
    uninterrupted one (in distributed runs, rank 0's states are stored).

    With ``save_best``, the best checkpoint so far (chosen on the validation
    split) is saved the same way: its weights are checked to be finite, it is
    written under a temporary name and renamed when complete, its path is
    then written to ``best_checkpoint`` in the work dir (beside mmengine's
    ``last_checkpoint``), and only then is the previous best removed
    (mmengine's own best save removes it first and writes in place: a kill
    or a full disk in between left no best checkpoint, or a truncated one
    under its final name).

    Other backends (``backend_args`` set) behave as :class:`CheckpointHook`.
    Arguments are those of :class:`CheckpointHook`.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        if self.backend_args is not None or self.file_client_args is not None:
            return super()._save_checkpoint_with_step(runner, step, meta)
        self._check_finite(runner)
        to_remove = []
        if self.max_keep_ckpts > 0 and (not self.keep_ckpt_ids
                                        or self.keep_ckpt_ids[-1] != step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                to_remove.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if not is_main_process():
            return  # runner.save_checkpoint writes on the main process only
        with atomic_output(self.last_ckpt) as partial:
            runner.save_checkpoint(
                self.out_dir,
                osp.basename(partial),
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                **self.args)
        write_text_atomic(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in to_remove:
            if old_step in self.keep_ckpt_ids:
                continue  # saved again just now: a stale list of kept ones
            old_path = osp.join(self.out_dir,
                                self.filename_tmpl.format(old_step))
            if osp.isfile(old_path):
                os.remove(old_path)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the random number generator states."""
        checkpoint['rng_state'] = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all()
            if torch.cuda.is_available() else [])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the random number generator states when resuming."""
        state = checkpoint.get('rng_state')
        if state is None or not getattr(runner, '_resume', False):
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if state['cuda'] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if self.backend_args is not None or self.file_client_args is not None:
            super()._save_best_checkpoint(runner, metrics)
            return
        replaced: List[str] = []
        with self._atomic_best_saves(runner, replaced):
            super()._save_best_checkpoint(runner, metrics)
        kept = set(getattr(self, 'best_ckpt_path_dict', {}).values())
        kept.add(getattr(self, 'best_ckpt_path', None))
        for old in replaced:
            if old not in kept and osp.isfile(old):
                os.remove(old)  # mmengine has logged it

    @contextmanager
    def _atomic_best_saves(self, runner, replaced: List[str]) -> Iterator:
        """mmengine's best save, made atomic and its removals deferred.

        Within the block, ``runner.save_checkpoint`` writes a checkpoint
        under a temporary name and renames it when complete, then points
        ``best_checkpoint`` at it; the file backend's ``remove`` (of the
        previous best) only records the path in ``replaced``. A checkpoint
        already written under a temporary name (the step checkpoint that
        mmengine saves again at the end) goes through unchanged.
        """
        save = runner.save_checkpoint

        def save_atomically(out_dir: str, filename: str, **kwargs) -> None:
            if is_partial_name(filename):
                return save(out_dir, filename, **kwargs)
            path = osp.join(out_dir, filename)
            self._check_finite(runner)
            if is_main_process():
                with atomic_output(path) as partial:
                    save(out_dir, osp.basename(partial), **kwargs)
                write_text_atomic(
                    osp.join(runner.work_dir, 'best_checkpoint'), path)

        runner.save_checkpoint = save_atomically
        self.file_backend.remove = replaced.append
        try:
            yield
        finally:
            del runner.save_checkpoint
            del self.file_backend.remove

    @staticmethod
    def _check_finite(runner) -> None:
        """Refuse to checkpoint weights that hold NaN or inf."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        bad = [
            name for name, tensor in model.state_dict().items()
            if tensor.is_floating_point() and not torch.isfinite(tensor).all()
        ]
        if bad:
            raise FloatingPointError(
                f'not saving a checkpoint at iteration {runner.iter}: '
                f'non-finite values in {bad[:10]}'
                f'{" ..." if len(bad) > 10 else ""}')
