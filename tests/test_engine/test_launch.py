import pytest
import torch
from mmengine.config import Config

from sgsrf_mmseg.engine.config_check import ConfigCheckError, check_config
from sgsrf_mmseg.engine.launch import enable_amp, select_dist_backend

TINY_MODEL = 'configs/_base_/models/sgsrf_tiny.py'


def test_backend_follows_device_unless_named():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='auto'))))
    select_dist_backend(cfg)
    expected = 'nccl' if torch.cuda.is_available() else 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == expected
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='gloo'))))
    select_dist_backend(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_amp_on_cpu_uses_bf16_autocast():
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    cfg = Config(dict(optim_wrapper=dict(type='SGDWrapperOfMine')))
    with pytest.raises(ValueError, match='SGDWrapperOfMine'):
        enable_amp(cfg)


def test_every_problem_is_reported_at_once(tmp_path):
    cfg = Config.fromfile(TINY_MODEL)
    cfg.model.image_encoder.img_size = 100
    cfg.model.decode_head.pretrained = str(tmp_path / 'sam_vit_b.pth')
    cfg.train_dataloader = dict(dataset=dict(type='NoSuchDataset'))
    with pytest.raises(ConfigCheckError) as info:
        check_config(cfg, stages=('train', ), checkpoint=str(tmp_path / 'x'))
    message = str(info.value)
    assert 'model.image_encoder.img_size=100 is not a multiple of the ' \
        'patch size 8' in message
    assert 'sam_vit_b.pth does not exist' in message
    assert "'NoSuchDataset' is not a registered dataset" in message
    assert 'checkpoint' in message and message.count('\n  - ') == 5


def test_valid_model_config_passes():
    check_config(Config.fromfile(TINY_MODEL), stages=())


def test_resume_options(tmp_path):
    from sgsrf_mmseg.engine.launch import _set_resume
    from sgsrf_mmseg.engine.strict_runner import NothingToResumeError
    cfg = Config(dict(work_dir=str(tmp_path), resume=False, load_from=None))
    (tmp_path / 'best_mIoU_iter_90.pth').write_bytes(b'')
    with pytest.raises(NothingToResumeError, match='it has no checkpoint'):
        _set_resume(cfg, 'latest')
    # Killed before its first last_checkpoint: the newest numbered one.
    for name in ('iter_8.pth', 'iter_10.pth'):
        (tmp_path / name).write_bytes(b'')
    _set_resume(cfg, 'latest')
    assert cfg.load_from == str(tmp_path / 'iter_10.pth')
    checkpoint = tmp_path / 'iter_4.pth'
    (tmp_path / 'last_checkpoint').write_text(str(checkpoint))
    with pytest.raises(
            NothingToResumeError,
            match=f'names {checkpoint}, which does not exist'):
        _set_resume(cfg, 'latest')
    checkpoint.write_bytes(b'')
    _set_resume(cfg, 'latest')
    assert (cfg.resume, cfg.load_from) == (True, str(checkpoint))
    with pytest.raises(
            NothingToResumeError,
            match='--resume: checkpoint nope.pth does not exist'):
        _set_resume(cfg, 'nope.pth')
    _set_resume(cfg, 'auto')
    assert (cfg.resume, cfg.load_from) == ('auto', None)


def test_configs_build_the_strict_runner():
    from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
    from mmseg.registry import RUNNERS

    from sgsrf_mmseg.engine import StrictRunner
    cfg = Config.fromfile('configs/sgsrf/sgsrf_tiny_synthetic.py')
    assert cfg.runner_type == 'StrictRunner'
    # Found the way MMSegmentation's tools/train.py looks it up.
    assert RUNNERS.get(cfg.runner_type) is StrictRunner
    assert MMENGINE_RUNNERS.get('mmseg.StrictRunner') is StrictRunner
