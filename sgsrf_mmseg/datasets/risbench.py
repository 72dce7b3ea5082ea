"""RISBench: referring segmentation benchmark of remote sensing images."""
from typing import Tuple

from mmseg.registry import DATASETS

from .referring_dataset import PhraseFileDataset


@DATASETS.register_module()
class RISBenchDataset(PhraseFileDataset):
    """RISBench in its released layout.

    .. code-block:: none

        data_root/
        ├── img_rgb/<file>.png
        ├── mask/<file>.png
        └── output_phrase_{train,val,test}.txt  # lines "<file.png> <expr>"

    The file name in a line keeps its extension; image and mask share it.

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        ann_file (str): Phrase file; ``{split}`` is replaced. Defaults to
            ``'output_phrase_{split}.txt'``.
        data_prefix (dict, optional): ``img_path`` and ``seg_map_path``
            folders. Defaults to ``dict(img_path='img_rgb',
            seg_map_path='mask')``.
        mask_threshold (float): Mask pixels ``> mask_threshold`` are the
            target. Defaults to 0: every non-zero pixel, the rule of the
            reference RISBench readers, right for masks stored as 0/1 and
            as 0/255.
        file_pattern (str): Regular expression of a valid file name.
            Defaults to an image file name without folders.
        **kwargs: Other arguments of :class:`ReferringSegDataset`.
    """
    DEFAULT_ANN_FILE = 'output_phrase_{split}.txt'
    DEFAULT_DATA_PREFIX = dict(img_path='img_rgb', seg_map_path='mask')

    def __init__(self,
                 mask_threshold: float = 0,
                 file_pattern: str = r'[^/\\\s]+\.(png|jpe?g|tiff?|bmp)',
                 **kwargs) -> None:
        super().__init__(
            key_pattern=file_pattern, mask_threshold=mask_threshold, **kwargs)

    def key_to_files(self, key: str) -> Tuple[str, str]:
        """``<file>`` -> (``<file>``, ``<file>``)."""
        return key, key
