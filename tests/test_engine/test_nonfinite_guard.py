from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from toy_training import build_runner

from sgsrf_mmseg.engine.hooks import NonFiniteLossGuardHook
from sgsrf_mmseg.engine.optimizers import (BATCH_IDS_KEY, NonFiniteLossError,
                                           NonFiniteLossGuard)


def _guard(wrapper, **policy):
    """Guard ``wrapper`` the way a run does: the hook at ``before_train``."""
    NonFiniteLossGuardHook(**policy).before_train(
        SimpleNamespace(optim_wrapper=wrapper))
    return wrapper


def _wrapper(policy, max_skips=10, wrapper_type='OptimWrapper', **kwargs):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    wrapper = build_optim_wrapper(
        model,
        dict(
            type=wrapper_type, optimizer=dict(type='AdamW', lr=0.1), **kwargs))
    return model, _guard(wrapper, nonfinite=policy, max_skips=max_skips)


def _step(model, wrapper, poison=False):
    loss = model(torch.ones(2, 3)).sum()
    if poison:
        loss = loss * float('nan')
    wrapper.update_params(loss)


def test_raise_names_iteration_and_samples_and_keeps_weights():
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 7)
    hub.update_info(BATCH_IDS_KEY, ['ref 3 / sent 5'])
    model, wrapper = _wrapper('raise')
    _step(model, wrapper)
    before = model.weight.detach().clone()
    with pytest.raises(
            NonFiniteLossError, match=r'iteration 7.*ref 3 / sent 5'):
        _step(model, wrapper, poison=True)
    assert torch.equal(model.weight, before)


def test_skip_leaves_weights_and_optimizer_state_untouched():
    model, wrapper = _wrapper('skip')
    _step(model, wrapper)
    weight = model.weight.detach().clone()
    state = {
        k: v.clone()
        for k, v in wrapper.optimizer.state[model.weight].items()
    }
    _step(model, wrapper, poison=True)
    assert torch.equal(model.weight, weight)
    for key, value in wrapper.optimizer.state[model.weight].items():
        assert torch.equal(value, state[key])
    _step(model, wrapper)
    assert not torch.equal(model.weight, weight)


def test_skip_stops_after_too_many_in_a_row():
    model, wrapper = _wrapper('skip', max_skips=2)
    _step(model, wrapper, poison=True)
    _step(model, wrapper, poison=True)
    with pytest.raises(NonFiniteLossError, match='3 steps in a row'):
        _step(model, wrapper, poison=True)


def test_bad_policy_is_refused():
    with pytest.raises(ValueError, match='nonfinite'):
        _wrapper('ignore')


def test_cpu_bf16_autocast_context():
    model, wrapper = _wrapper(
        'raise', wrapper_type='AutocastOptimWrapper', dtype='bfloat16')
    with wrapper.optim_context(model):
        out = model(torch.ones(2, 3))
    assert out.dtype == torch.bfloat16
    assert isinstance(wrapper.update_params, NonFiniteLossGuard)


def test_nan_in_a_training_run_stops_it_at_that_iteration(tmp_path):
    runner = build_runner(str(tmp_path))
    original = runner.model.forward

    def poisoned(inputs, targets, mode='tensor'):
        out = original(inputs, targets, mode)
        if mode == 'loss' and runner.iter == 3:
            out['loss'] = out['loss'] * float('nan')
        return out

    runner.model.forward = poisoned
    with pytest.raises(NonFiniteLossError, match='iteration 3'):
        runner.train()
    # The checkpoint of iteration 2 exists; nothing was saved after the NaN.
    files = {p.name for p in tmp_path.iterdir()}
    assert 'iter_2.pth' in files and 'iter_4.pth' not in files


def test_segmentor_nan_report_names_the_samples():
    from mmengine.config import Config
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    cfg = Config.fromfile('configs/_base_/models/sgsrf_tiny.py')
    model = MODELS.build(cfg.model)
    wrapper = _guard(
        build_optim_wrapper(
            model,
            dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3))))
    samples = []
    for i in range(2):
        sample = SegDataSample(
            metainfo=dict(
                text='the red car',
                text_parse=dict(
                    words=['the', 'red', 'car'],
                    spaces=[True, True, False],
                    heads=[2, 2, 2],
                    deps=['det', 'amod', 'ROOT']),
                img_path=f'scene_{i}.tif',
                ref_id=i,
                sent_id=i,
                img_shape=(128, 128),
                ori_shape=(128, 128),
                pad_shape=(128, 128)))
        sample.gt_sem_seg = PixelData(
            data=torch.zeros(1, 128, 128, dtype=torch.long))
        samples.append(sample)
    original = model.decode_head.loss_by_feat

    def nan_loss(*args, **kwargs):
        losses = original(*args, **kwargs)
        return {k: v * float('nan') for k, v in losses.items()}

    model.decode_head.loss_by_feat = nan_loss
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 11)
    data = dict(
        inputs=[torch.zeros(3, 128, 128) for _ in samples],
        data_samples=samples)
    runner = SimpleNamespace(message_hub=hub)
    NonFiniteLossGuardHook().before_train_iter(runner, 11, data)
    with pytest.raises(
            NonFiniteLossError,
            match=r'iteration 11.*scene_0\.tif \(ref 0, sent 0\)'):
        model.train_step(data, wrapper)


def test_every_wrapper_of_a_dict_is_guarded_once():
    from mmengine.optim import OptimWrapperDict
    models = [torch.nn.Linear(3, 1), torch.nn.Linear(3, 1)]
    wrappers = OptimWrapperDict(
        **{
            name:
            build_optim_wrapper(model, dict(
                optimizer=dict(type='SGD', lr=0.1)))
            for name, model in zip('ab', models)
        })
    _guard(wrappers)
    _guard(wrappers)  # a second hook (or call) does not guard a guard
    for name, model in zip('ab', models):
        guard = wrappers[name].update_params
        assert isinstance(guard, NonFiniteLossGuard)
        assert not isinstance(guard.unguarded_update_params,
                              NonFiniteLossGuard)
        with pytest.raises(NonFiniteLossError):
            _step(model, wrappers[name], poison=True)


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="mmengine's AMP wrapper needs CUDA")
def test_guard_composes_with_amp_optim_wrapper():
    model, wrapper = _wrapper(
        'skip', wrapper_type='AmpOptimWrapper', loss_scale='dynamic')
    model.cuda()
    wrapper.optimizer.state.clear()

    def step(poison=False):
        with wrapper.optim_context(model):
            loss = model(torch.ones(2, 3, device='cuda')).sum()
        wrapper.update_params(loss * float('nan') if poison else loss)

    step()
    weight = model.weight.detach().clone()
    scale = wrapper.loss_scaler.get_scale()
    step(poison=True)
    assert torch.equal(model.weight, weight)
    assert wrapper.loss_scaler.get_scale() == scale
    step()
    assert not torch.equal(model.weight, weight)
    wrapper.update_params.nonfinite = 'raise'
    with pytest.raises(NonFiniteLossError, match='non-finite training loss'):
        step(poison=True)
