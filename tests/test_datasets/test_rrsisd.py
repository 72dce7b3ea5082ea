import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest

from sgsrf_mmseg.analysis.dataset_check import check_dataset
from sgsrf_mmseg.datasets import LoadReferringMask, RRSISDDataset, mask_utils
from sgsrf_mmseg.datasets.transforms import loading


def _load(info, **kwargs):
    from mmcv.transforms import LoadImageFromFile
    return LoadReferringMask(**kwargs)(LoadImageFromFile()(info))


def test_counts_texts_categories_masks(rrsisd_root):
    root, expected = rrsisd_root
    train = RRSISDDataset(data_root=root, split='train')
    assert len(train) == 2
    train_test_mode = RRSISDDataset(
        data_root=root, split='train', test_mode=True)
    assert len(train_test_mode) == 3  # the whitespace-only sentence skipped
    infos = [train_test_mode.get_data_info(i) for i in range(3)]
    assert [i['text'] for i in infos] == [
        'The vehicle on the left', 'small car', 'an airplane at the top'
    ]
    assert [i['sent_id'] for i in infos] == [1000, 1001, 1100]
    assert [i['category'] for i in infos] == ['vehicle', 'vehicle', 'airplane']
    assert infos[0]['ref_id'] == 10 and infos[0]['image_id'] == 1
    assert infos[0]['img_path'] == osp.join(root, 'images', 'rrsisd',
                                            'JPEGImages', '00001.jpg')
    assert infos[0]['mask_size'] == (32, 32)
    for info in (infos[0], infos[2]):
        mask = _load(info)['gt_seg_map']
        np.testing.assert_array_equal(mask, expected[info['ref_id']])
    test = RRSISDDataset(data_root=root, split='test', test_mode=True)
    assert len(test) == 2
    assert len(RRSISDDataset(data_root=root, split='val', test_mode=True)) == 1


def test_missing_instances_file(rrsisd_root):
    root, _ = rrsisd_root
    os.remove(osp.join(root, 'rrsisd', 'instances.json'))
    with pytest.raises(FileNotFoundError, match='instances.json'):
        RRSISDDataset(data_root=root, split='train')
    with pytest.raises(FileNotFoundError, match='nope.p'):
        RRSISDDataset(data_root=root, split='train', ann_file='nope.p')


def test_malicious_refs_refused(tmp_path, rrsisd_builder):
    marker = tmp_path / 'ran'

    class Evil:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    root = str(tmp_path / 'd')
    rrsisd_builder(root, refs_override=[])
    with open(osp.join(root, 'rrsisd', 'refs(unc).p'), 'wb') as f:
        pickle.dump([dict(ref_id=Evil())], f)
    with pytest.raises(pickle.UnpicklingError, match=r'refs\(unc\).p'):
        RRSISDDataset(data_root=root, split='train')
    assert not marker.exists()


def test_size_mismatch_repaired_or_refused(tmp_path, monkeypatch,
                                           rrsisd_builder):
    root = str(tmp_path / 'd')
    # image 1 is one row taller than its RLE (like 800x801 vs 800x800);
    # image 2 is 12 columns narrower
    expected = rrsisd_builder(root, image_sizes={1: (33, 32), 2: (32, 20)})
    logged = []
    monkeypatch.setattr(loading, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = RRSISDDataset(data_root=root, split='train', test_mode=True)
    mask = _load(ds.get_data_info(0))['gt_seg_map']
    assert mask.shape == (33, 32)
    np.testing.assert_array_equal(mask[:32], expected[10])
    assert mask[32].sum() == 0
    assert len(logged) == 1 and '00001.jpg' in logged[0]
    resized = _load(ds.get_data_info(0), size_mismatch='resize')['gt_seg_map']
    assert resized.shape == (33, 32)
    with pytest.raises(ValueError, match='00001.jpg'):
        _load(ds.get_data_info(0), size_mismatch='error')
    with pytest.raises(ValueError, match=r'00002.jpg.*by 12 px'):
        _load(ds.get_data_info(2), max_size_mismatch=8)
    cropped = _load(ds.get_data_info(2), max_size_mismatch=16)['gt_seg_map']
    np.testing.assert_array_equal(cropped, expected[11][:, :20])


def test_unknown_annotation_named(rrsisd_root):
    root, _ = rrsisd_root
    with open(osp.join(root, 'rrsisd', 'refs(unc).p'), 'rb') as f:
        refs = pickle.load(f)
    refs[0]['ann_id'] = 999
    with open(osp.join(root, 'rrsisd', 'refs(unc).p'), 'wb') as f:
        pickle.dump(refs, f)
    with pytest.raises(ValueError, match=r'instances.json.*999.*ref 10'):
        RRSISDDataset(data_root=root, split='train')


def test_find_missing_files(rrsisd_root, tmp_path):
    root, _ = rrsisd_root
    assert RRSISDDataset.find_missing_files(
        data_root=root, split='val', lazy_init=True) == []
    missing = str(tmp_path / 'nowhere')
    assert RRSISDDataset.find_missing_files(data_root=missing) == [
        f'data_root {missing} does not exist'
    ]
    os.remove(osp.join(root, 'rrsisd', 'refs(unc).p'))
    os.remove(osp.join(root, 'rrsisd', 'instances.json'))
    assert RRSISDDataset.find_missing_files(data_root=root) == [
        f'data_root {root} has no rrsisd/refs(unc).p (ann_file)',
        f'data_root {root} has no rrsisd/instances.json (instances_file)'
    ]
    elsewhere = str(tmp_path / 'refs.p')
    problems = RRSISDDataset.find_missing_files(
        data_root=root,
        ann_file=elsewhere,
        data_prefix=dict(img_path='JPEGImages'))
    assert problems == [
        f'ann_file {elsewhere} does not exist',
        f'data_root {root} has no folder JPEGImages (data_prefix.img_path)',
        f'data_root {root} has no rrsisd/instances.json (instances_file)'
    ]


def test_numpy_integer_ids_load(rrsisd_root):
    root, expected = rrsisd_root
    path = osp.join(root, 'rrsisd', 'refs(unc).p')
    with open(path, 'rb') as f:
        refs = pickle.load(f)
    for ref in refs:
        for key in ('image_id', 'category_id', 'ann_id', 'ref_id'):
            ref[key] = np.int64(ref[key])
        ref['sent_ids'] = [np.int64(i) for i in ref['sent_ids']]
        for sent in ref['sentences']:
            sent['sent_id'] = np.int64(sent['sent_id'])
    with open(path, 'wb') as f:
        pickle.dump(refs, f, protocol=2)
    ds = RRSISDDataset(data_root=root, split='train', test_mode=True)
    info = ds.get_data_info(0)
    assert (info['ref_id'], info['image_id'], info['sent_id']) == (10, 1, 1000)
    assert type(info['ref_id']) is int and info['category'] == 'vehicle'
    np.testing.assert_array_equal(_load(info)['gt_seg_map'], expected[10])


def test_missing_images_fail_at_construction(rrsisd_root):
    root, _ = rrsisd_root
    img_dir = osp.join(root, 'images', 'rrsisd', 'JPEGImages')
    os.remove(osp.join(img_dir, '00002.jpg'))
    with pytest.raises(FileNotFoundError) as err:
        RRSISDDataset(data_root=root, split='train')
    assert str(err.value).endswith(
        ': 1 of the 2 image and mask files it names do not exist (images: '
        f'1, masks: 0):\n  {osp.join(img_dir, "00002.jpg")}')
    RRSISDDataset(data_root=root, split='val')  # its image is there
    os.remove(osp.join(img_dir, '00001.jpg'))
    with pytest.raises(
            FileNotFoundError, match=r'2 of the 2 .*none of them exists'):
        RRSISDDataset(data_root=root, split='train')


def _edit_instances(root, edit):
    path = osp.join(root, 'rrsisd', 'instances.json')
    with open(path) as f:
        instances = json.load(f)
    edit(instances)
    with open(path, 'w') as f:
        json.dump(instances, f)
    return path


@pytest.fixture
def nothing_decoded(monkeypatch):
    """Fail the test if an annotation is decoded (it would be allocated)."""

    def decode(rles):
        raise AssertionError('an annotation was decoded')

    monkeypatch.setattr(mask_utils.coco_mask, 'decode', decode)


def test_rle_of_a_huge_declared_size_is_refused_before_decoding(
        rrsisd_root, nothing_decoded):
    """Issue 23 item 15: an instances.json of 2.6 KB whose RLE claims
    40000 x 40000 peaked at 5.6 GB in the checker, in training and in
    testing: the mask was decoded before its size was checked."""
    root, _ = rrsisd_root

    def claim_huge(instances):
        instances['annotations'][2]['segmentation'][0]['size'] = [40000, 40000]

    _edit_instances(root, claim_huge)
    info = RRSISDDataset(
        data_root=root, split='val', test_mode=True).get_data_info(0)
    with pytest.raises(ValueError) as error:
        _load(info)
    assert str(error.value) == (
        f'annotation 102 of ref 12 (image {info["img_path"]}): mask size '
        '(40000, 40000) differs from the image size (32, 32) (by 39968 px; '
        'repaired up to 16 px unless size_mismatch="error"); not decoded')
    report, _ = check_dataset('rrsisd', root, ['val'])
    summary = report.summary()
    assert report.has_fatal
    assert 'annotation/image size mismatch beyond repair' in summary
    assert 'mask size (40000, 40000) differs' in summary


def test_polygon_of_a_huge_image_is_refused_before_decoding(
        rrsisd_root, nothing_decoded):
    """The decoder guard on a case not in the issue: a polygon annotation
    whose image record claims 40000 x 40000 (no image to compare: the
    pixel limit applies)."""
    root, _ = rrsisd_root

    def claim_huge(instances):
        instances['images'][1].update(height=40000, width=40000)

    _edit_instances(root, claim_huge)
    dataset = RRSISDDataset(data_root=root, split='train', test_mode=True)
    assert dataset.get_data_info(2)['mask_size'] == (40000, 40000)
    with pytest.raises(ValueError, match='differs from the image size'):
        _load(dataset.get_data_info(2))
    with pytest.raises(ValueError) as error:  # no image size known
        LoadReferringMask()(dataset.get_data_info(2))
    assert str(error.value).endswith(
        'the annotation declares a 40000 x 40000 = 1,600,000,000 pixel mask, '
        'over the limit of 33,554,432; not decoded')


def test_instances_with_a_byte_order_mark_load(rrsisd_root):
    """Issue 23 item 22: instances.json saved with a UTF-8 byte-order mark
    failed with "JSONDecodeError: Unexpected UTF-8 BOM" naming no file."""
    root, expected = rrsisd_root
    path = osp.join(root, 'rrsisd', 'instances.json')
    with open(path, 'rb') as f:
        content = f.read()
    with open(path, 'wb') as f:
        f.write(b'\xef\xbb\xbf' + content)
    info = RRSISDDataset(
        data_root=root, split='val', test_mode=True).get_data_info(0)
    np.testing.assert_array_equal(_load(info)['gt_seg_map'], expected[12])
    with open(path, 'wb') as f:
        f.write(content[:-5])
    with pytest.raises(ValueError) as error:
        RRSISDDataset(data_root=root, split='val')
    assert str(
        error.value).startswith(f'annotation file {path} is not valid JSON: ')
    report, _ = check_dataset('rrsisd', root, ['val'])
    assert f'annotation file {path} is not valid JSON' in report.summary()
