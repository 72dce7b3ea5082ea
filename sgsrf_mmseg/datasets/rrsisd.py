"""RRSIS-D: referring segmentation on DIOR images (refer-toolkit layout)."""
import os.path as osp
from typing import List, Optional, Tuple

from mmengine.fileio import join_path
from mmseg.registry import DATASETS

from ..utils.expression import clean_dataset_expression
from ..utils.json_file import read_json
from ..utils.safe_pickle import safe_load_pickle
from .mask_utils import segmentation_size
from .referring_dataset import ReferringSegDataset, warn_skipped


@DATASETS.register_module()
class RRSISDDataset(ReferringSegDataset):
    """RRSIS-D in its released layout.

    .. code-block:: none

        data_root/
        ├── rrsisd/refs(unc).p       # pickled list of refs
        ├── rrsisd/instances.json    # COCO-like images/annotations/categories
        └── images/rrsisd/JPEGImages/<file_name>

    A ref has ``image_id, split, file_name, category_id, ann_id, ref_id,
    sent_ids, sentences[{raw, sent, tokens, sent_id}]``. The refs pickle is
    read with :func:`safe_load_pickle` (a crafted file cannot run code).
    The image file name comes from ``instances.json`` (the ref's
    ``file_name`` when the image is not listed there). The annotation's
    ``segmentation`` (RLE dicts or polygons) is decoded by
    :class:`LoadReferringMask`, parts merged by union. The category is the
    name of the annotation's ``categories_id`` (RRSIS-D's key;
    ``category_id`` is also accepted, then the ref's).

    Args:
        data_root (str): Dataset root.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        ann_file (str): The refs pickle. Defaults to ``'rrsisd/refs(unc).p'``.
        instances_file (str): The COCO-like json. Defaults to
            ``'rrsisd/instances.json'``.
        data_prefix (dict, optional): ``img_path`` folder. Defaults to
            ``dict(img_path='images/rrsisd/JPEGImages')``.
        text_key (str): Sentence field used as the expression (``'sent'``
            is used when it is missing). Defaults to ``'raw'`` as in the
            LAVT/RMSIN loaders.
        **kwargs: Other arguments of :class:`ReferringSegDataset`.
    """
    DEFAULT_ANN_FILE = 'rrsisd/refs(unc).p'
    DEFAULT_DATA_PREFIX = dict(img_path='images/rrsisd/JPEGImages')

    def __init__(self,
                 data_root: str,
                 instances_file: str = 'rrsisd/instances.json',
                 text_key: str = 'raw',
                 **kwargs) -> None:
        if not osp.isabs(instances_file) and data_root:
            instances_file = join_path(data_root, instances_file)
        self.instances_file = instances_file
        self.text_key = text_key
        super().__init__(data_root=data_root, **kwargs)

    @classmethod
    def required_paths(cls,
                       split: str = 'train',
                       ann_file: Optional[str] = None,
                       data_prefix: Optional[dict] = None,
                       instances_file: str = 'rrsisd/instances.json',
                       **kwargs) -> List[Tuple[str, str, bool]]:
        """The refs pickle, ``instances.json`` and the image folder.

        Args:
            split (str): The split. Defaults to ``'train'``.
            ann_file (str, optional): The refs pickle. Defaults to None.
            data_prefix (dict, optional): Image folder. Defaults to None.
            instances_file (str): The COCO-like json. Defaults to
                ``'rrsisd/instances.json'``.
            **kwargs: Other constructor arguments (ignored here).

        Returns:
            list[tuple[str, str, bool]]: ``(config field, path, is_folder)``.
        """
        return super().required_paths(split, ann_file, data_prefix) + [
            ('instances_file', instances_file, False)
        ]

    def _load_instances(self) -> dict:
        if not osp.isfile(self.instances_file):
            raise FileNotFoundError(
                f'annotation file not found: {self.instances_file}')
        instances = read_json(self.instances_file, 'annotation file')
        if not isinstance(instances, dict):
            raise ValueError(f'{self.instances_file}: expected a JSON object '
                             'with "images" and "annotations"')
        for key in ('images', 'annotations'):
            if key not in instances:
                raise ValueError(f'{self.instances_file}: no "{key}" field')
        return instances

    def split_refs(self) -> List[dict]:
        """Read the refs pickle and keep the refs of the split.

        Returns:
            list[dict]: The split's refs as stored (numpy ids as Python
            numbers, see :func:`safe_load_pickle`).
        """
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'annotation file not found: {self.ann_file}')
        refs = safe_load_pickle(self.ann_file)
        if not isinstance(refs, list) or not all(
                isinstance(r, dict) for r in refs):
            raise ValueError(f'{self.ann_file}: expected a list of ref dicts')
        return [ref for ref in refs if ref.get('split') == self.split]

    def raw_expression(self, sentence: dict) -> object:
        """The expression of a ref's sentence as stored, before cleaning.

        Args:
            sentence (dict): One entry of a ref's ``sentences``.

        Returns:
            object: Its ``text_key`` field, else ``sent``, else ``''``.
        """
        return sentence.get(self.text_key, sentence.get('sent', ''))

    def _category_name(self, ann: dict, ref: dict,
                       categories: dict) -> Optional[str]:
        cat_id = ann.get('categories_id',
                         ann.get('category_id', ref.get('category_id')))
        if cat_id is None:
            return None
        if cat_id not in categories:
            raise ValueError(
                f'{self.instances_file}: category id {cat_id} of annotation '
                f'{ann.get("id")} is not in "categories"')
        return categories[cat_id]

    def load_references(self) -> List[dict]:
        """Load the refs of the split and join them with instances.json.

        Returns:
            list[dict]: One dict per ref.
        """
        refs = self.split_refs()
        instances = self._load_instances()
        images = {img['id']: img for img in instances['images']}
        anns = {ann['id']: ann for ann in instances['annotations']}
        categories = {
            c['id']: c['name']
            for c in instances.get('categories', [])
        }
        img_dir = self.data_prefix.get('img_path', '')
        references, skipped = [], []
        for ref in refs:
            ref_id = ref.get('ref_id')
            for key in ('ann_id', 'image_id', 'sentences'):
                if key not in ref:
                    raise ValueError(
                        f'{self.ann_file}: ref {ref_id} has no "{key}" field')
            ann_ids = ref['ann_id'] if isinstance(ref['ann_id'],
                                                  list) else [ref['ann_id']]
            missing = [a for a in ann_ids if a not in anns]
            if missing:
                raise ValueError(
                    f'{self.instances_file}: annotation(s) {missing} of ref '
                    f'{ref_id} ({self.ann_file}) not found')
            image = images.get(ref['image_id'], {})
            file_name = image.get('file_name', ref.get('file_name'))
            if file_name is None:
                raise ValueError(
                    f'{self.instances_file}: image {ref["image_id"]} of ref '
                    f'{ref_id} not found and the ref has no "file_name"')
            segs = [anns[a]['segmentation'] for a in ann_ids]
            size = segmentation_size(segs[0])
            if size is None:
                if 'height' not in image or 'width' not in image:
                    raise ValueError(
                        f'{self.instances_file}: annotation {ann_ids[0]} is a '
                        'polygon and its image has no height/width')
                size = (int(image['height']), int(image['width']))
            sent_ids = ref.get('sent_ids', [])
            sentences = []
            for k, sent in enumerate(ref['sentences']):
                sent_id = sent.get('sent_id',
                                   sent_ids[k] if k < len(sent_ids) else k)
                text = clean_dataset_expression(self.raw_expression(sent))
                if text:
                    sentences.append(dict(sent_id=sent_id, text=text))
                else:
                    skipped.append(f'ref {ref_id} sent {sent_id}')
            if not sentences:
                continue
            references.append(
                dict(
                    img_path=osp.join(img_dir, file_name),
                    seg_map_path=None,
                    mask_annotations=segs,
                    mask_size=size,
                    ann_id=ann_ids[0] if len(ann_ids) == 1 else ann_ids,
                    ref_id=ref_id,
                    image_id=ref['image_id'],
                    category=self._category_name(anns[ann_ids[0]], ref,
                                                 categories),
                    sentences=sentences))
        warn_skipped(self.ann_file, skipped)
        return references
