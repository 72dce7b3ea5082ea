"""RefSegRS: referring segmentation on SkyScapes tiles."""
from typing import Tuple

from mmseg.registry import DATASETS

from .referring_dataset import PhraseFileDataset


@DATASETS.register_module()
class RefSegRSDataset(PhraseFileDataset):
    """RefSegRS in its released layout.

    .. code-block:: none

        data_root/
        ├── images/<id>.tif
        ├── masks/<id>.tif
        └── output_phrase_{train,val,test}.txt   # lines "<id> <expression>"

    The embedded synthetic dataset (:mod:`.synthetic`) is written in
    this layout too.

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        ann_file (str): Phrase file; ``{split}`` is replaced. Defaults to
            ``'output_phrase_{split}.txt'``.
        data_prefix (dict, optional): ``img_path`` and ``seg_map_path``
            folders. Defaults to ``dict(img_path='images',
            seg_map_path='masks')``.
        img_suffix (str): Defaults to ``'.tif'``.
        seg_map_suffix (str): Defaults to ``'.tif'``.
        mask_threshold (float): Mask pixels ``> mask_threshold`` are the
            target, as in the reference loaders. Defaults to 50.
        id_pattern (str): Regular expression of a valid id; the released
            files use integers. Defaults to ``r'\\d+'``.
        **kwargs: Other arguments of :class:`ReferringSegDataset`.
    """
    DEFAULT_ANN_FILE = 'output_phrase_{split}.txt'
    DEFAULT_DATA_PREFIX = dict(img_path='images', seg_map_path='masks')

    def __init__(self,
                 img_suffix: str = '.tif',
                 seg_map_suffix: str = '.tif',
                 mask_threshold: float = 50,
                 id_pattern: str = r'\d+',
                 **kwargs) -> None:
        super().__init__(
            key_pattern=id_pattern,
            mask_threshold=mask_threshold,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    def key_to_files(self, key: str) -> Tuple[str, str]:
        """``<id>`` -> (``<id><img_suffix>``, ``<id><seg_map_suffix>``)."""
        return key + self.img_suffix, key + self.seg_map_suffix
