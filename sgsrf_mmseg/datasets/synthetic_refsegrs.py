"""The embedded synthetic dataset, generated on first use."""
import fcntl
import os
import os.path as osp
from typing import List

from mmseg.registry import DATASETS

from .refsegrs import RefSegRSDataset
from .synthetic_scenes import ensure_synthetic_dataset


@DATASETS.register_module()
class SyntheticRefSegRSDataset(RefSegRSDataset):
    """Synthetic aerial scenes written in the RefSegRS layout, then read back.

    On construction the scenes are generated into ``data_root`` unless it
    already holds them with the same parameters
    (:func:`ensure_synthetic_dataset`); a file lock makes concurrent
    processes (distributed ranks, dataloaders of train and val) generate
    once. Everything else is :class:`RefSegRSDataset`: the samples go
    through the real loading path.

    Each sample's ``category`` says whether its target is of a colour-kind
    pair seen in training (``'seen_pair'``) or of a held-out pair
    (``'held_out_pair'``, test split only), so that
    :class:`ReferringSegMetric` reports both.

    Args:
        generator (dict): Arguments of :func:`ensure_synthetic_dataset`
            other than ``root`` (``num_train``, ``num_val``, ``num_test``,
            ``image_size``, ``seed``). Defaults to its defaults.
        **kwargs: Arguments of :class:`RefSegRSDataset`.
    """

    def __init__(self, data_root: str, generator: dict = None, **kwargs):
        os.makedirs(data_root, exist_ok=True)
        with open(osp.join(data_root, '.generate.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self.synthetic_info = ensure_synthetic_dataset(
                    data_root, **(generator or {}))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        super().__init__(data_root=data_root, **kwargs)

    def load_references(self) -> List[dict]:
        """References of :class:`RefSegRSDataset`, with the pair category."""
        held_out = set(self.synthetic_info['splits'][self.split].get(
            'held_out_target_ids', []))
        refs = super().load_references()
        for ref in refs:
            ref['category'] = ('held_out_pair' if str(ref['image_id'])
                               in held_out else 'seen_pair')
        return refs

    @classmethod
    def find_missing_files(cls, **kwargs) -> List[str]:
        """Nothing can be missing: the data are generated on first use.

        Args:
            **kwargs: The dataset's config arguments (ignored).

        Returns:
            list[str]: Always empty.
        """
        return []
