"""Predict time, agreement and GeoTIFF time of each inference precision.

One run builds the config's model once with random weights (as
:mod:`.inputs` does: no pretrained file is read), saves them to a temporary
checkpoint, and loads that checkpoint into a
:class:`~sgsrf_mmseg.apis.ReferringSegInferencer` in each precision, so
that every precision runs the same weights through the same code users
run. Beside them, in the same run, the library towers' fp32 forward (the
floor of :mod:`.comparisons`). The record: :mod:`.precision_record`.
"""
import os.path as osp
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import open_clip
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from sgsrf_mmseg.apis import ReferringSegInferencer
from sgsrf_mmseg.apis.precision import PRECISIONS, check_precision
from .comparisons import build_clip_floor, build_sam_floor
from .inputs import build_model, load_model_cfg, make_batch, preprocess
from .phases import time_call
from .precision_record import (Agreement, FloorForward, PrecisionResults,
                               PredictTime, SceneTime)
from .record import ratio
from .runner import device_name
from .scene_file import write_scene

SCENE_TEXT = 'the white storage tanks next to the road'
NOTES = {
    'predict':
    "mode='predict' under no_grad on a preprocessed batch of random images "
    'and expressions, batch time / batch size; over_floor = this / the '
    'floor at the same batch size',
    'floor':
    'open_clip.CLIP encode_image + encode_text and segment_anything '
    'ImageEncoderViT (own attention), fp32 forward in eval under no_grad, '
    'batch time / batch size',
    'agreement':
    'each precision against fp32 on the largest batch: max |probability '
    'difference|, cosine of the mask logits, mean IoU of the masks',
    'scene':
    'ReferringSegInferencer.segment_geotiff of a generated RGB scene, tiles '
    'of the model input size with a quarter overlap, mask GeoTIFF only (no '
    'GeoJSON: random weights give meaningless polygons), one timed run; '
    'speedup = fp32 at the smallest batch / this',
}


@dataclass
class PrecisionSettings:
    """What one precision benchmark run measures.

    Args:
        config (str): Config file with a ``model`` dict.
        precisions (Sequence[str]): Precisions to measure; fp32, the
            reference, is measured first in any case. Defaults to all.
        batch_sizes (Sequence[int]): Batch sizes of the predict times.
            Defaults to (1, 4).
        device (str): 'cpu' or 'cuda'. Defaults to 'cpu'.
        input_size (int, optional): Square input size (None: the config's).
            Defaults to None.
        iters (int): Timed iterations per measurement. Defaults to 3.
        warmup (int): Untimed iterations before each. Defaults to 1.
        scene_size (int): Side of the generated GeoTIFF scene; 0 for none.
            Defaults to 4096.
        scene_batch_sizes (Sequence[int]): Tiles per pass of the scene
            runs. Defaults to (1, 4).
        seed (int): Seed of the weights, images and scene. Defaults to 0.
        cfg_options (dict, optional): Config overrides. Defaults to None.
    """
    config: str
    precisions: Sequence[str] = PRECISIONS
    batch_sizes: Sequence[int] = (1, 4)
    device: str = 'cpu'
    input_size: Optional[int] = None
    iters: int = 3
    warmup: int = 1
    scene_size: int = 4096
    scene_batch_sizes: Sequence[int] = (1, 4)
    seed: int = 0
    cfg_options: Optional[dict] = None

    def __post_init__(self) -> None:
        unknown = set(self.precisions) - set(PRECISIONS)
        if unknown:
            raise ValueError(f'precisions: {sorted(unknown)} are not among '
                             f'{PRECISIONS}')
        self.precisions = ['fp32'] + [
            p for p in dict.fromkeys(self.precisions) if p != 'fp32'
        ]
        if min(self.batch_sizes) < 1 or min(self.scene_batch_sizes) < 1:
            raise ValueError('batch sizes must be >= 1')
        if self.iters < 1 or self.warmup < 0 or self.scene_size < 0:
            raise ValueError('iters must be >= 1, warmup and scene_size '
                             '>= 0')

    @property
    def torch_device(self) -> torch.device:
        """The device as a ``torch.device``."""
        return torch.device(self.device)


def floor_forward(model_cfg: dict, size: int, batch: dict,
                  settings: PrecisionSettings) -> FloorForward:
    """The library towers' fp32 forward on a batch, per image."""
    device = settings.torch_device
    count = len(batch['inputs'])
    texts = [s.metainfo['text'] for s in batch['data_samples']]
    images = torch.randn(count, 3, size, size).to(device)
    total = 0.0
    clip = build_clip_floor(model_cfg, size)
    if clip is not None:
        clip = clip.to(device).eval()
        tokens = open_clip.tokenize(
            texts, context_length=clip.context_length).to(device)
        for encode, inputs in ((clip.encode_image, images), (clip.encode_text,
                                                             tokens)):
            total += _forward_ms(encode, inputs, settings)
        del clip
    sam = build_sam_floor(model_cfg)
    if sam is not None:
        sam = sam.to(device).eval()
        total += _forward_ms(
            sam,
            torch.randn(count, 3, sam.img_size, sam.img_size).to(device),
            settings)
    return FloorForward(count, round(total / count, 3))


def _forward_ms(encode, inputs: torch.Tensor,
                settings: PrecisionSettings) -> float:
    """Mean ms of ``encode(inputs)`` under ``no_grad``."""

    def forward():
        with torch.no_grad():
            encode(inputs)

    return time_call(forward, settings)[0]


def predict_time(model: torch.nn.Module, data: dict, precision: str,
                 settings: PrecisionSettings) -> PredictTime:
    """Mean predict time per image of a preprocessed batch."""

    def forward():
        with torch.no_grad():
            model(**data, mode='predict')

    count = len(data['data_samples'])
    ms = time_call(forward, settings)[0]
    return PredictTime(precision, count, round(ms / count, 3))


def probabilities(model: torch.nn.Module, data: dict) -> List[torch.Tensor]:
    """The target probability maps of a preprocessed batch."""
    with torch.no_grad():
        results = model(**data, mode='predict')
    return [r.seg_logits.data[0].float().cpu() for r in results]


def agreement(precision: str, probs: List[torch.Tensor],
              reference: List[torch.Tensor], threshold: float) -> Agreement:
    """How far ``probs`` are from the fp32 ``reference``."""
    eps = 1e-6
    diff = max(float((p - r).abs().max()) for p, r in zip(probs, reference))
    logits = [
        torch.logit(torch.cat([t.flatten() for t in maps]), eps=eps)
        for maps in (probs, reference)
    ]
    cosine = torch.nn.functional.cosine_similarity(*logits, dim=0)
    ious = []
    for p, r in zip(probs, reference):
        a, b = p > threshold, r > threshold
        union = int((a | b).sum())
        ious.append(1.0 if union == 0 else int((a & b).sum()) / union)
    return Agreement(precision, round(diff, 5), round(float(cosine), 5),
                     round(sum(ious) / len(ious), 4))


def scene_time(inferencer: ReferringSegInferencer, scene: str, batch_size: int,
               out_dir: str) -> SceneTime:
    """One timed ``segment_geotiff`` of the scene."""
    start = time.perf_counter()
    summary = inferencer.segment_geotiff(
        scene,
        SCENE_TEXT,
        osp.join(out_dir, 'scene_mask.tif'),
        batch_size=batch_size,
        overwrite=True)
    return SceneTime(inferencer.precision, batch_size,
                     round(time.perf_counter() - start, 2),
                     summary['num_tiles'])


def run_precisions(settings: PrecisionSettings,
                   command: Optional[str] = None) -> PrecisionResults:
    """Measure every precision of the settings (see the module).

    Args:
        settings (PrecisionSettings): The run.
        command (str, optional): The command line, recorded. Defaults to
            None.

    Returns:
        PrecisionResults: The results.
    """
    MMLogger.get_instance('benchmark', log_level='WARNING')
    for precision in settings.precisions:
        check_precision(precision, settings.device)
    torch.manual_seed(settings.seed)
    model_cfg, size = load_model_cfg(settings)
    cfg = Config.fromfile(settings.config)
    if settings.cfg_options:
        cfg.merge_from_dict(settings.cfg_options)
    cfg.model = model_cfg
    batches = {
        b: make_batch(b, size, settings.seed)
        for b in settings.batch_sizes
    }
    largest = max(settings.batch_sizes)
    results = PrecisionResults(
        config=settings.config,
        device=settings.device,
        device_name=device_name(settings.torch_device),
        input_size=size,
        precisions=list(settings.precisions),
        predict=[],
        floor=[
            floor_forward(model_cfg, size, batches[b], settings)
            for b in settings.batch_sizes
        ],
        scene_size=settings.scene_size or None,
        texts=[s.metainfo['text'] for s in batches[largest]['data_samples']],
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        warmup=settings.warmup,
        iters=settings.iters,
        command=command,
        notes=NOTES)
    floors = {f.batch_size: f.ms_per_image for f in results.floor}
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = osp.join(tmp, 'random_weights.pth')
        torch.save(
            dict(state_dict=build_model(model_cfg, 'cpu').state_dict()),
            checkpoint)
        scene = osp.join(tmp, 'scene.tif')
        if settings.scene_size:
            write_scene(scene, settings.scene_size, settings.seed)
        reference = None
        for precision in settings.precisions:
            inferencer = ReferringSegInferencer(
                cfg, checkpoint, settings.device, precision=precision)
            data = {
                b: preprocess(inferencer.model, batch, False)
                for b, batch in batches.items()
            }
            for b in settings.batch_sizes:
                timed = predict_time(inferencer.model, data[b], precision,
                                     settings)
                timed.over_floor = ratio(timed.ms_per_image, floors[b])
                results.predict.append(timed)
            probs = probabilities(inferencer.model, data[largest])
            if reference is None:
                reference = probs
            else:
                results.agreement.append(
                    agreement(precision, probs, reference,
                              inferencer.threshold))
            if settings.scene_size:
                results.tile_size = max(inferencer.input_size)
                results.scene += [
                    scene_time(inferencer, scene, b, tmp)
                    for b in settings.scene_batch_sizes
                ]
            del inferencer, data
    _add_speedups(results.scene)
    return results


def _add_speedups(scene: List[SceneTime]) -> None:
    """Speedup of each scene run over fp32 at the smallest batch."""
    fp32: Dict[int, float] = {
        s.batch_size: s.seconds
        for s in scene if s.precision == 'fp32'
    }
    if not fp32:
        return
    base = fp32[min(fp32)]
    for entry in scene:
        entry.speedup = ratio(base, entry.seconds)
