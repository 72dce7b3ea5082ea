"""Inference in bf16 and int8: the masks of fp32, refused where unsupported.

The rule of the agreement tests: random weights give mask logits within a
hair of zero everywhere, where any rounding flips pixels, so the tiny model
is first fitted (40 AdamW steps, seeded, about 5 s on one thread) to four
scenes of one coloured rectangle each, until its fp32 masks cover the
rectangles; its checkpoint is loaded in each precision, and the masks of
the four expressions must agree with fp32 at mean IoU >= 0.97.
"""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from sgsrf_mmseg.apis import ReferringSegInferencer
from sgsrf_mmseg.apis import inferencer as inferencer_module
from sgsrf_mmseg.apis import precision as precision_module
from sgsrf_mmseg.apis.precision import (PrecisionError, apply_precision,
                                        check_precision)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')
#: No structure loss: the fitted scenes have no dependency parses.
NO_SCR = {'model.structural_loss': None}
TEXTS = ('the red car', 'the white building', 'the red roof on the left',
         'a white storage tank')


def scenes():
    """Four 128 px scenes, each with one red or white rectangle (target)."""
    rng = np.random.RandomState(0)
    images, masks = [], []
    for i in range(len(TEXTS)):
        image = rng.randint(60, 120, (128, 128, 3)).astype(np.uint8)
        mask = np.zeros((128, 128), np.uint8)
        y, x = rng.randint(10, 80, 2)
        h, w = rng.randint(20, 40, 2)
        image[y:y + h, x:x + w] = (200, 40, 40) if i % 2 == 0 else 240
        mask[y:y + h, x:x + w] = 1
        images.append(image)
        masks.append(mask)
    return images, masks


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two binary masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else np.logical_and(a, b).sum() / union


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A checkpoint of the tiny model fitted to :func:`scenes`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    inferencer = ReferringSegInferencer(
        TINY_CONFIG, device='cpu', cfg_options=NO_SCR)
    model = inferencer.model.train()
    images, masks = scenes()
    batch = inferencer.pack([(image, '', text)
                             for image, text in zip(images, TEXTS)])
    for sample, mask in zip(batch['data_samples'], masks):
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(mask[None]).long())
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for _ in range(40):
        loss, _ = model.parse_losses(
            model.loss(**model.data_preprocessor(copy.deepcopy(batch), True)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = str(tmp_path_factory.mktemp('fitted') / 'fitted.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    yield path
    torch.set_num_threads(threads)


def predict(checkpoint, precision):
    """Results of the four expressions with the checkpoint in a precision."""
    inferencer = ReferringSegInferencer(
        TINY_CONFIG,
        checkpoint,
        device='cpu',
        cfg_options=NO_SCR,
        precision=precision)
    images, _ = scenes()
    return inferencer, inferencer(
        images, list(TEXTS), batch_size=2, return_probability=True)


@pytest.fixture(scope='module')
def fp32_results(checkpoint):
    _, results = predict(checkpoint, 'fp32')
    return results


def test_fitted_model_segments_the_targets(fp32_results):
    """The rule's premise: fp32 masks are confident and right."""
    _, masks = scenes()
    ious = [mask_iou(r['mask'], m) for r, m in zip(fp32_results, masks)]
    assert np.mean(ious) >= 0.9, ious


@pytest.mark.parametrize('precision', ['bf16', 'int8'])
def test_masks_agree_with_fp32(checkpoint, fp32_results, precision):
    inferencer, results = predict(checkpoint, precision)
    ious = [
        mask_iou(r['mask'], f['mask']) for r, f in zip(results, fp32_results)
    ]
    assert np.mean(ious) >= 0.97, ious
    for result, fp32 in zip(results, fp32_results):
        prob = result['probability']
        assert prob.dtype == np.float32 and np.isfinite(prob).all()
        np.testing.assert_array_equal(result['mask'], prob
                                      > inferencer.threshold)
        # The precision ran: not the fp32 numbers, close to them.
        assert not np.array_equal(prob, fp32['probability'])
        np.testing.assert_allclose(prob, fp32['probability'], atol=0.1)


def test_bf16_runs_the_towers_under_autocast(checkpoint):
    inferencer = ReferringSegInferencer(
        TINY_CONFIG,
        checkpoint,
        device='cpu',
        cfg_options=NO_SCR,
        precision='bf16')
    dtypes = []
    inferencer.model.image_encoder.register_forward_hook(
        lambda module, args, out: dtypes.append(out[-1].dtype))
    images, _ = scenes()
    result = inferencer(images[0], TEXTS[0], return_probability=True)
    assert dtypes == [torch.bfloat16]
    assert result['probability'].dtype == np.float32


def test_int8_quantizes_every_linear_layer(checkpoint):
    inferencer, _ = predict(checkpoint, 'int8')
    kinds = {type(m) for m in inferencer.model.modules()}
    assert torch.ao.nn.quantized.dynamic.Linear in kinds
    # Only MultiheadAttention's out_proj (kept by PyTorch) stays float.
    assert torch.nn.Linear not in kinds


def test_bf16_without_avx512_bf16_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: False)

    def no_build(*args, **kwargs):
        raise AssertionError('the model was built')

    monkeypatch.setattr(inferencer_module.MODELS, 'build', no_build)
    with pytest.raises(PrecisionError) as info:
        ReferringSegInferencer(TINY_CONFIG, device='cpu', precision='bf16')
    assert str(info.value) == (
        'precision bf16 cannot run on cpu: this CPU lacks the AVX-512 BF16 '
        'instructions (avx512_bf16) that run bfloat16 at speed; use '
        'precision fp32 (or another one it supports)')


def test_int8_needs_the_cpu_and_a_quantized_engine(monkeypatch):
    with pytest.raises(PrecisionError, match='CPU only, not on cuda'):
        check_precision('int8', 'cuda')
    monkeypatch.setattr(precision_module, 'int8_engine', lambda: None)
    with pytest.raises(PrecisionError, match='no quantized engine'):
        check_precision('int8', 'cpu')
    model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    with pytest.raises(PrecisionError):
        apply_precision(model, 'int8', 'cpu')
    assert type(model[0]) is torch.nn.Linear  # left as it was


def test_unknown_precision_and_model_without_autocast():
    with pytest.raises(ValueError, match="one of .*'fp32'.*got 'fp16'"):
        check_precision('fp16', 'cpu')
    if precision_module.missing_support('bf16', 'cpu') is None:
        with pytest.raises(TypeError, match='has no autocast_dtype'):
            apply_precision(torch.nn.Linear(2, 2), 'bf16', 'cpu')
