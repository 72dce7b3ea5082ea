import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from sgsrf_mmseg.apis import ReferringSegInferencer, inference_pipeline
from sgsrf_mmseg.apis import inferencer as inferencer_module
from sgsrf_mmseg.engine import CheckpointError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')


def random_images():
    rng = np.random.RandomState(0)
    return [
        rng.randint(0, 256, (96, 160, 3), np.uint8),
        rng.randint(0, 256, (8, 8, 3), np.uint8),
        rng.randint(0, 256, (128, 128, 3), np.uint8),
    ]


TEXTS = [
    'the red car on the road',
    'a building at the top left next to the large pond',
    'tank',
]


def test_single_and_batched_masks_agree(inferencer):
    images = random_images()
    single = [
        inferencer(image, text, return_probability=True)
        for image, text in zip(images, TEXTS)
    ]
    # Batches of 2 and 1: texts of different lengths share a batch.
    batched = inferencer(images, TEXTS, batch_size=2, return_probability=True)
    assert len(batched) == 3
    for one, many in zip(single, batched):
        np.testing.assert_array_equal(one['mask'], many['mask'])
        np.testing.assert_allclose(
            one['probability'], many['probability'], atol=1e-5)
        assert one['score'] == pytest.approx(many['score'], abs=1e-5)


def test_outputs_at_original_size(inferencer):
    images = random_images()
    results = inferencer(
        images,
        'the white storage tank',
        batch_size=3,
        return_probability=True,
        return_vis=True)
    for image, result in zip(images, results):
        height, width = image.shape[:2]
        mask, prob = result['mask'], result['probability']
        assert mask.shape == (height, width) and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 1}
        assert prob.shape == (height, width) and prob.dtype == np.float32
        assert np.isfinite(prob).all() and 0 <= prob.min() <= prob.max() <= 1
        np.testing.assert_array_equal(mask, prob > inferencer.threshold)
        expected = float(prob[mask > 0].mean()) if mask.any() else 0.0
        assert result['score'] == pytest.approx(expected)
        vis = result['visualization']
        assert vis.dtype == np.uint8 and vis.shape[1:] == (width, 3)
        assert vis.shape[0] > height  # banner with the expression on top
        assert result['text'] == 'the white storage tank'


def test_one_expression_for_many_images(inferencer):
    images = random_images()
    shared = inferencer(images, 'tank', batch_size=3)
    assert [r['mask'].shape for r in shared] == [i.shape[:2] for i in images]
    assert {r['text'] for r in shared} == {'tank'}
    many_texts = inferencer(images[0], ['tank', 'a road'], batch_size=2)
    assert [r['text'] for r in many_texts] == ['tank', 'a road']
    assert {r['mask'].shape for r in many_texts} == {images[0].shape[:2]}
    assert inferencer([], []) == []
    with pytest.raises(ValueError, match='2 images and 3 expressions'):
        inferencer(images[:2], TEXTS)
    with pytest.raises(ValueError, match='batch_size'):
        inferencer(images[0], 'tank', batch_size=0)
    with pytest.raises(TypeError, match='image'):
        inferencer(torch.zeros(3, 8, 8), 'tank')


def test_pipeline_follows_the_config():
    cfg = Config.fromfile(CONFIG)
    steps = inference_pipeline(cfg)
    assert steps == [
        dict(type='Resize', scale=(128, 128), keep_ratio=False),
        dict(type='PackReferringInputs')
    ]
    cfg.test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(96, 64), keep_ratio=False),
        dict(type='LoadReferringMask'),
        dict(type='PackReferringInputs'),
    ]
    assert [s['type'] for s in inference_pipeline(cfg)
            ] == ['Resize', 'PackReferringInputs']
    assert inference_pipeline(cfg)[0]['scale'] == (96, 64)


def test_device_and_input_size(inferencer):
    assert inferencer.input_size == (128, 128)
    assert next(inferencer.model.parameters()).device.type == 'cpu'
    assert not inferencer.model.training


def test_checkpoint_loads_strictly(inferencer, tmp_path, monkeypatch):
    messages = []
    monkeypatch.setattr(inferencer_module, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    state = inferencer.model.state_dict()
    path = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    image = random_images()[0]
    torch.manual_seed(1)
    loaded = ReferringSegInferencer(CONFIG, path, device='cpu')
    assert not messages
    np.testing.assert_array_equal(
        loaded(image, TEXTS[0])['mask'],
        inferencer(image, TEXTS[0])['mask'])

    missing = dict(state)
    dropped = sorted(missing)[0]
    del missing[dropped]
    torch.save(dict(state_dict=missing), str(tmp_path / 'missing.pth'))
    with pytest.raises(CheckpointError) as err:
        ReferringSegInferencer(CONFIG, str(tmp_path / 'missing.pth'))
    assert 'missing.pth' in str(err.value) and dropped in str(err.value)

    extra = dict(state, **{'decode_head.extra_weight': torch.zeros(2)})
    torch.save(dict(state_dict=extra), str(tmp_path / 'extra.pth'))
    with pytest.raises(CheckpointError, match='decode_head.extra_weight'):
        ReferringSegInferencer(CONFIG, str(tmp_path / 'extra.pth'))
    with pytest.raises(CheckpointError, match='nowhere.pth not found'):
        ReferringSegInferencer(CONFIG, str(tmp_path / 'nowhere.pth'))


def test_checkpoint_is_read_before_the_model_is_built(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(inferencer_module.MODELS, 'build',
                        lambda cfg: built.append(cfg))
    cut = tmp_path / 'cut.pth'
    torch.save(dict(state_dict={'w': torch.zeros(1000)}), str(cut))
    cut.write_bytes(cut.read_bytes()[:500])
    with pytest.raises(CheckpointError) as info:
        ReferringSegInferencer(CONFIG, str(cut), device='cpu')
    assert str(info.value).startswith(f'cannot read checkpoint {cut}: ')
    assert not built


def test_pipeline_built_once_and_input_size_from_the_model(monkeypatch):
    calls = []
    monkeypatch.setattr(
        inferencer_module, 'inference_pipeline',
        lambda cfg: calls.append(cfg) or inference_pipeline(cfg))
    cfg = Config.fromfile(CONFIG)
    cfg.model.data_preprocessor.size = (96, 96)
    cfg.model.image_encoder.img_size = 96
    cfg.model.decode_head.sam.img_size = 96
    loaded = ReferringSegInferencer(cfg, device='cpu')
    assert len(calls) == 1 and loaded.input_size == (96, 96)
    assert loaded(np.zeros((20, 30, 3), np.uint8), 'a car')['mask'].shape == \
        (20, 30)
    del cfg.model.data_preprocessor['size']
    with pytest.raises(ValueError, match='model.data_preprocessor.size'):
        ReferringSegInferencer(cfg, device='cpu')


def test_random_weights_warn(monkeypatch):
    messages = []
    monkeypatch.setattr(inferencer_module, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    ReferringSegInferencer(Config.fromfile(CONFIG), device='cpu')
    assert len(messages) == 1 and 'random weights' in messages[0]


def test_predict_tiles(inferencer):
    tiles = [np.full((128, 128, 3), v, np.uint8) for v in (0, 90, 200)]
    probs = inferencer.predict_tiles(tiles, 'a pond', batch_size=2)
    assert len(probs) == 3
    assert all(p.shape == (128, 128) and p.dtype == np.float32 for p in probs)
    assert inferencer.predict_tiles([], 'a pond') == []
