"""The files a test run writes outside its work dir: checked, then locked.

``tools/test.py --results FILE --out DIR`` writes a results JSON and a
folder of masks with ``expressions.csv``. Before the model is built:

* neither is one of the run's inputs (the config, the checkpoint);
* ``--results`` is a new file, and ``--out`` a missing or empty folder,
  unless ``--overwrite`` is given (then files of the same names are
  replaced and other files in the folder are kept);
* ``--out`` is locked (:class:`~sgsrf_mmseg.utils.folder_lock.FolderLock`)
  by the process of rank 0 until the run ends, so a second run cannot mix
  its masks with this one's.

Every file is then written atomically
(:mod:`sgsrf_mmseg.utils.atomic_file`): a killed run leaves the previous
version of each file whole.
"""
import os
import os.path as osp
from typing import Optional

from ..utils.command_line import UsageError
from ..utils.folder_lock import LOCK_NAME, FolderLock
from ..utils.output_paths import check_output_folder, check_outputs


def _is_rank_zero() -> bool:
    """Whether this process is rank 0 of its launch (or not distributed)."""
    return int(os.environ.get('RANK', '0')) == 0


class RunOutputs:
    """``--results`` and ``--out`` of a test run.

    Args:
        config (str): The config file (an input).
        checkpoint (str): The checkpoint (an input).
        work_dir (str): The run's work dir, which its runner locks.
        results (str, optional): The results JSON to write. Defaults to
            None.
        out_dir (str, optional): The folder of masks. Defaults to None.
        overwrite (bool): Replace files of the same names. Defaults to
            False.
    """

    def __init__(self,
                 config: str,
                 checkpoint: str,
                 work_dir: str,
                 results: Optional[str] = None,
                 out_dir: Optional[str] = None,
                 overwrite: bool = False) -> None:
        self.inputs = [config, checkpoint]
        self.work_dir = work_dir
        self.results = results
        self.out_dir = out_dir
        self.overwrite = overwrite
        self._lock = None

    def claim(self) -> None:
        """Check the outputs and lock ``--out`` (see the module)."""
        if self.results:
            check_outputs([self.results], self.inputs, self.overwrite)
        if not self.out_dir:
            return
        if osp.abspath(self.out_dir) == osp.abspath(self.work_dir):
            raise UsageError(f'--out {self.out_dir} is the work dir of the '
                             'run; choose another folder for the masks')
        if _is_rank_zero():
            # not an input nor a file, before the lock creates the folder
            check_output_folder(self.out_dir, self.inputs, overwrite=True)
            self._lock = FolderLock(self.out_dir, role='--out folder')
            self._lock.acquire()
        try:
            check_output_folder(
                self.out_dir, self.inputs, self.overwrite, own=[LOCK_NAME])
        except Exception:
            self.release()
            raise

    def release(self) -> None:
        """Unlock ``--out``."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> 'RunOutputs':
        self.claim()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
