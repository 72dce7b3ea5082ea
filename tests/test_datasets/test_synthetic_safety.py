"""The synthetic generator never replaces or removes data it did not write."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from sgsrf_mmseg.datasets import (SyntheticRefSegRSDataset,
                                  ensure_synthetic_dataset,
                                  generate_synthetic_dataset)
from sgsrf_mmseg.datasets.synthetic import ForeignDataError, GeneratorParams
from sgsrf_mmseg.datasets.synthetic import dataset as synthetic_dataset
from sgsrf_mmseg.datasets.synthetic import writer as synthetic_writer
from sgsrf_mmseg.datasets.synthetic.layout import legacy_dataset_files

init_default_scope('mmseg')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMALL = dict(num_train=4, num_val=2, num_test=2, image_size=64)


def snapshot(root):
    """Every entry below ``root`` with its bytes (None for folders)."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            state[osp.relpath(osp.join(folder, name), root)] = None
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                state[osp.relpath(path, root)] = f.read()
    return state


def test_refuses_to_overwrite_a_foreign_dataset(refsegrs_root):
    before = snapshot(refsegrs_root)
    for write in (generate_synthetic_dataset, ensure_synthetic_dataset):
        with pytest.raises(ForeignDataError) as info:
            write(refsegrs_root, **SMALL)
        message = str(info.value)
        assert f'into {refsegrs_root}: the folder is not empty' in message
        assert ('It holds: images/ (5 entries), masks/ (5 entries), '
                'output_phrase_test.txt, output_phrase_train.txt, '
                'output_phrase_val.txt.') in message
    assert snapshot(refsegrs_root) == before


def test_rerun_removes_only_generated_files(tmp_path):
    root = str(tmp_path / 'synthetic')
    ensure_synthetic_dataset(root, **SMALL)
    user_files = {'images/notes.txt': b'mine', 'masks/999.tif': b'also mine'}
    for name, content in user_files.items():
        with open(osp.join(root, name), 'wb') as f:
            f.write(content)
    first = set(synthetic_writer.read_marker(root)['files'])
    info = ensure_synthetic_dataset(root, **dict(SMALL, num_train=2))
    for name, content in user_files.items():
        with open(osp.join(root, name), 'rb') as f:
            assert f.read() == content
    images = sorted(name for name in info['files']
                    if name.startswith('images/'))
    assert sorted(os.listdir(osp.join(
        root, 'images'))) == sorted([osp.basename(name)
                                     for name in images] + ['notes.txt'])
    gone = sorted(first - set(info['files']))
    assert gone and 'masks/' + osp.basename(gone[0]) in first
    assert not any(osp.exists(osp.join(root, name)) for name in gone)
    assert info['complete']


def test_refuses_to_replace_a_user_file_a_rerun_would_write(tmp_path):
    root = str(tmp_path / 'synthetic')
    info = ensure_synthetic_dataset(root, **dict(SMALL, num_train=1))
    # the first id past the dataset's, which the larger one writes
    user_id = len([n for n in info['files'] if n.startswith('masks/')])
    with open(osp.join(root, 'images', f'{user_id}.tif'), 'wb') as f:
        f.write(b'mine')
    before = snapshot(root)
    with pytest.raises(
            ForeignDataError,
            match=r'1 file\(s\) it would write '
            r'are there and were not written by the generator '
            rf'\(images/{user_id}.tif\)'):
        ensure_synthetic_dataset(root, **SMALL)
    assert snapshot(root) == before


def test_tiny_config_reads_a_foreign_refsegrs_folder(refsegrs_root,
                                                     monkeypatch):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/sgsrf/sgsrf_tiny_synthetic.py'))
    before = snapshot(refsegrs_root)
    logged = []
    monkeypatch.setattr(synthetic_dataset, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.data_root = refsegrs_root
    test_cfg = cfg.test_dataloader.dataset
    test_cfg.data_root = refsegrs_root
    # the training set's parser learns from generated gold trees, which a
    # foreign folder lacks: said at start-up and at construction
    problems = SyntheticRefSegRSDataset.find_missing_files(**train_cfg)
    assert len(problems) == 1 and 'no gold parse trees' in problems[0]
    with pytest.raises(ValueError, match="text_parser=dict.model='en_core"):
        DATASETS.build(train_cfg)
    logged.clear()
    train_cfg.text_parser = None
    train = DATASETS.build(train_cfg)
    test = DATASETS.build(test_cfg)
    assert isinstance(train, SyntheticRefSegRSDataset)
    assert [train.get_data_info(i)['ref_id']
            for i in range(len(train))] == ['0', '1', '2']
    assert [test.get_data_info(i)['text']
            for i in range(len(test))] == ['the white tank']
    assert test.get_data_info(0)['category'] is None
    sample = test[0]
    assert sample['data_samples'].metainfo['text'] == 'the white tank'
    assert sample['inputs'].shape == (3, 128, 128)  # resized by the config
    assert sample['data_samples'].gt_sem_seg.data.shape == (1, 32, 32)
    assert snapshot(refsegrs_root) == before
    assert logged == [
        f'{refsegrs_root} holds a RefSegRS-layout dataset that the synthetic '
        'generator did not write: reading it as it is (nothing generated, '
        'generator settings unused, no held-out-pair categories)'
    ] * 2


def test_dataset_refuses_a_folder_that_is_neither(tmp_path):
    root = tmp_path / 'notes'
    root.mkdir()
    (root / 'notes.txt').write_text('mine')
    with pytest.raises(ForeignDataError) as info:
        SyntheticRefSegRSDataset(
            data_root=str(root), generator=SMALL, pipeline=[])
    message = str(info.value)
    assert f'into {root}: the folder is not empty' in message
    assert 'It holds: notes.txt.' in message
    assert 'reads a RefSegRS-layout folder' in message
    assert os.listdir(root) == ['notes.txt']
    problems = SyntheticRefSegRSDataset.find_missing_files(
        data_root=str(root), split='train', generator=SMALL)
    assert len(problems) == 1 and 'It holds: notes.txt.' in problems[0]
    assert SyntheticRefSegRSDataset.find_missing_files(
        data_root=str(tmp_path / 'new'), generator=dict(num_trian=3)) == [
            "generator: unknown synthetic generator parameter(s) "
            "['num_trian']; known: ['num_train', 'num_val', 'num_test', "
            "'image_size', 'seed']"
        ]


@pytest.mark.slow
def test_tool_exits_non_zero_on_a_foreign_folder(refsegrs_root):
    before = snapshot(refsegrs_root)
    result = subprocess.run([
        sys.executable, 'tools/misc/generate_synthetic.py', refsegrs_root,
        '--num-train', '2', '--force'
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 1
    assert (f'error: refusing to write the synthetic dataset into '
            f'{refsegrs_root}: the folder is not empty') in result.stderr
    assert result.stdout == ''
    assert snapshot(refsegrs_root) == before


def test_interrupted_generation_is_recovered(tmp_path, monkeypatch):
    root = str(tmp_path / 'synthetic')
    scenes = []
    real_scene = synthetic_writer.generate_scene

    def interrupted(*args):
        if len(scenes) == 5:
            raise KeyboardInterrupt
        scenes.append(args)
        return real_scene(*args)

    monkeypatch.setattr(synthetic_writer, 'generate_scene', interrupted)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthetic_dataset(root, **SMALL)
    with open(osp.join(root, 'synthetic_info.json')) as f:
        marker = json.load(f)
    assert not marker['complete']
    written = [
        name for name in marker['files'] if osp.exists(osp.join(root, name))
    ]
    assert 'images/0.tif' in written and 'images/7.tif' in marker['files']
    with open(osp.join(root, 'images', 'notes.txt'), 'wb') as f:
        f.write(b'mine')
    monkeypatch.setattr(synthetic_writer, 'generate_scene', real_scene)
    info = ensure_synthetic_dataset(root, **SMALL)
    assert info['complete']
    fresh = str(tmp_path / 'fresh')
    generate_synthetic_dataset(fresh, **SMALL)
    assert snapshot(root) == dict(
        snapshot(fresh), **{'images/notes.txt': b'mine'})


def test_folder_of_an_older_generator_version_is_regenerated(tmp_path):
    root = str(tmp_path / 'synthetic')
    info = generate_synthetic_dataset(root, **SMALL)
    older = {
        k: info[k]
        for k in ('layout', 'kinds', 'kind_colours', 'held_out_combos',
                  'splits')
    }
    older['params'] = dict(info['params'], version=3)
    with open(osp.join(root, 'synthetic_info.json'), 'w') as f:
        json.dump(older, f)
    # what versions 1-3 wrote: one id per scene, no gold trees, no tags
    legacy = set(legacy_dataset_files(GeneratorParams(**SMALL)))
    for name in set(info['files']) - legacy:
        os.remove(osp.join(root, name))
    with open(osp.join(root, 'images', 'notes.txt'), 'wb') as f:
        f.write(b'mine')
    again = ensure_synthetic_dataset(root, **SMALL)
    assert again['version'] == info['version'] and again['complete']
    assert osp.isfile(osp.join(root, 'output_phrase_test.gold_parses.json'))
    assert osp.isfile(osp.join(root, 'images', 'notes.txt'))


@pytest.mark.parametrize('name', ['.generate.lock', 'synthetic_info.json.tmp'])
def test_planted_links_are_never_followed(tmp_path, name):
    """Issue 23 item 6: a link planted at the generator's lock or
    temporary marker made the generator truncate the link's target."""
    target = tmp_path / 'precious.txt'
    target.write_text('precious')
    root = tmp_path / 'synthetic'
    root.mkdir()
    os.symlink(target, root / name)
    if name == '.generate.lock':
        with pytest.raises(OSError) as info:
            ensure_synthetic_dataset(str(root), **SMALL)
        assert str(info.value) == (
            f'the lock file {root / name} is a symbolic link, which is never '
            'followed (its target would be written); remove the link')
    else:  # the marker is written under a fresh temporary name
        assert ensure_synthetic_dataset(str(root), **SMALL)['complete']
    assert target.read_text() == 'precious'


def test_complete_dataset_on_a_read_only_mount_is_read(tmp_path, monkeypatch):
    """Issue 23 item 21: a complete dataset on a read-only mount could not
    be used (EROFS on '.generate.lock', taken when nothing needed
    generating): nothing is opened for writing now."""
    root = str(tmp_path / 'synthetic')
    info = ensure_synthetic_dataset(root, **SMALL)
    os.remove(osp.join(root, '.generate.lock'))
    real_open, real_os_open = open, os.open

    def read_only_open(path, mode='r', *args, **kwargs):
        if set(mode) & set('wax+') and str(path).startswith(root):
            raise OSError(30, 'Read-only file system', str(path))
        return real_open(path, mode, *args, **kwargs)

    def read_only_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR
                    | os.O_CREAT) and str(path).startswith(root):
            raise OSError(30, 'Read-only file system', str(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr('builtins.open', read_only_open)
    monkeypatch.setattr(os, 'open', read_only_os_open)
    assert ensure_synthetic_dataset(root, **SMALL) == info
    dataset = SyntheticRefSegRSDataset(
        data_root=root, generator=SMALL, split='val', pipeline=[])
    assert len(dataset) > 0
    assert not osp.exists(osp.join(root, '.generate.lock'))
