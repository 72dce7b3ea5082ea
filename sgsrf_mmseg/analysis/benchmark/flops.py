"""Count the FLOPs of a training forward, its backward and a prediction."""
import torch
import torch.nn as nn
from torch.utils.flop_counter import (FlopCounterMode,
                                      sdpa_backward_flop_count,
                                      sdpa_flop_count)

from .results import empty
from .settings import BenchmarkSettings

FLOP_FIELDS = ('forward_train', 'backward_train', 'train_step_3x',
               'forward_infer', 'forward_train_by_module', 'error')


def _sdpa_cpu_flops(query, key, value, *args, **kwargs) -> int:
    """FLOPs of the CPU flash-attention kernel (as the CUDA kernels)."""
    return sdpa_flop_count(query, key, value)


def _sdpa_cpu_backward_flops(grad_out, query, key, value, *args,
                             **kwargs) -> int:
    """FLOPs of the CPU flash-attention backward."""
    return sdpa_backward_flop_count(grad_out, query, key, value)


def _native_mha_flops(query, key, value, embed_dim, num_heads, *args,
                      **kwargs) -> int:
    """FLOPs of ``nn.MultiheadAttention``'s fused inference path."""
    batch = query[0] if len(query) == 3 else 1
    q_len, k_len = query[-2], key[-2]
    proj = 2 * batch * embed_dim * embed_dim * (2 * q_len + 2 * k_len)
    return proj + 4 * batch * q_len * k_len * embed_dim


def flop_counter() -> FlopCounterMode:
    """A ``FlopCounterMode`` that also counts the CPU attention kernels."""
    aten = torch.ops.aten
    return FlopCounterMode(
        display=False,
        custom_mapping={
            aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flops,
            aten._scaled_dot_product_flash_attention_for_cpu_backward:
            _sdpa_cpu_backward_flops,
            aten._native_multi_head_attention: _native_mha_flops,
        })


def count_flops(model: nn.Module, train_data: dict, infer_data: dict,
                settings: BenchmarkSettings, with_infer: bool) -> dict:
    """FLOPs of one training forward, its backward, one inference forward.

    A multiply-add counts 2 FLOPs (``torch.utils.flop_counter``).

    Args:
        model (nn.Module): An mmengine model.
        train_data (dict): Preprocessed training batch.
        infer_data (dict): Preprocessed inference batch.
        settings (BenchmarkSettings): The dtype.
        with_infer (bool): Count the inference forward too.

    Returns:
        dict: The ``flops`` record (:data:`FLOP_FIELDS`);
        ``forward_train_by_module`` maps the model's children and
        grandchildren that ran to their forward FLOPs.
    """
    result = empty(FLOP_FIELDS)
    model.train()
    with flop_counter() as counter, settings.autocast():
        loss, _ = model.parse_losses(model(**train_data, mode='loss'))
    result['forward_train'] = counter.get_total_flops()
    result['train_step_3x'] = 3 * result['forward_train']
    result['forward_train_by_module'] = {
        name.split('.', 1)[1]: sum(ops.values())
        for name, ops in counter.get_flop_counts().items()
        if name.count('.') in (1, 2)
    }
    with flop_counter() as counter:
        loss.backward()
    result['backward_train'] = counter.get_total_flops()
    model.zero_grad(set_to_none=True)
    del loss
    if with_infer:
        model.eval()
        with flop_counter() as counter, torch.no_grad(), settings.autocast():
            model(**infer_data, mode='predict')
        result['forward_infer'] = counter.get_total_flops()
    return result
