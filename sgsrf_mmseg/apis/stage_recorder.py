"""Record what the stages of an SGSRF segmentor compute, with forward hooks.

The recorder never calls the model and never changes its modules: hooks on
the stage modules keep their inputs and outputs while whoever drives the
model runs a forward (``model.test_step``). One hook changes an argument:
CCR is asked for its patch->word attention maps
(``need_patch_word_attn=True``), which it then computes explicitly, as it
does for the structural loss in training, instead of through
``scaled_dot_product_attention``.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import torch
import torch.nn as nn

from ..models.utils.stage_outputs import Grounding, SAMPrompts, TextFeatures

#: Submodules a segmentor needs for its stages to be recorded.
SGSRF_PARTS = ('image_encoder', 'text_encoder', 'refiner', 'decode_head')


@dataclass
class AdapterRecord:
    """What one grounding adapter did in the recorded pass.

    Attributes:
        block (int): SAM encoder block it follows.
        change (torch.Tensor): ``(B, He, We)`` L2 norm of ``x' - x``.
        token_norm (torch.Tensor): ``(B,)`` mean L2 norm of its input
            tokens.
    """
    block: int
    change: torch.Tensor
    token_norm: torch.Tensor


@dataclass
class StageRecord:
    """The stage outputs of one recorded forward (a batch).

    Attributes:
        image (torch.Tensor): ``(B, 3, H, W)`` 0..255 RGB, the towers' input.
        text (TextFeatures): The text tower's output.
        grounding (Grounding): CCR's output, with its attention maps.
        prompts (SAMPrompts, optional): GPG's output (None without GPG).
        adapters (list[AdapterRecord]): One per adapter, in order.
    """
    image: Optional[torch.Tensor] = None
    text: Optional[TextFeatures] = None
    grounding: Optional[Grounding] = None
    prompts: Optional[SAMPrompts] = None
    adapters: List[AdapterRecord] = field(default_factory=list)


def check_stage_model(model: nn.Module) -> None:
    """Refuse a model without SGSRF's stages, naming what it lacks."""
    missing = [part for part in SGSRF_PARTS if not hasattr(model, part)]
    if missing:
        raise TypeError(
            f'stage panels need an SGSRF segmentor (with '
            f'{", ".join(SGSRF_PARTS)}); {type(model).__name__} has no '
            f'{", ".join(missing)}')


class StageRecorder:
    """Context manager that records one forward of an SGSRF segmentor.

    Example:
        >>> with StageRecorder(model) as recorder:
        ...     outputs = model.test_step(data)
        >>> recorder.record.grounding.patch_word_attn

    Args:
        model (nn.Module): An ``SGSRFSegmentor`` (or a model with the same
            parts, :data:`SGSRF_PARTS`).
    """

    def __init__(self, model: nn.Module) -> None:
        check_stage_model(model)
        self.model = model
        self.record = StageRecord()
        self._handles: list = []

    def __enter__(self) -> 'StageRecorder':
        model, hook = self.model, self._handles.append
        hook(model.image_encoder.register_forward_pre_hook(self._on_image))
        hook(model.text_encoder.register_forward_hook(self._on_text))
        hook(
            model.refiner.register_forward_pre_hook(
                self._ask_attention, with_kwargs=True))
        hook(model.refiner.register_forward_hook(self._on_grounding))
        if getattr(model, 'prompt_generator', None) is not None:
            hook(
                model.prompt_generator.register_forward_hook(self._on_prompts))
        head = model.decode_head
        for block, adapter in zip(
                getattr(head, 'adapter_indexes', ()),
                getattr(head, 'grounding_adapters', ())):
            hook(adapter.register_forward_hook(self._adapter_hook(block)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _on_image(self, module: nn.Module, args: tuple) -> None:
        self.record.image = args[0].detach()

    def _on_text(self, module: nn.Module, args: tuple,
                 output: TextFeatures) -> None:
        self.record.text = output

    @staticmethod
    def _ask_attention(module: nn.Module, args: tuple,
                       kwargs: dict) -> Tuple[tuple, dict]:
        """Set ``need_patch_word_attn=True`` however it is passed."""
        if len(args) > 2:
            args = args[:2] + (True, ) + args[3:]
        else:
            kwargs = dict(kwargs, need_patch_word_attn=True)
        return args, kwargs

    def _on_grounding(self, module: nn.Module, args: tuple,
                      output: Grounding) -> None:
        self.record.grounding = output

    def _on_prompts(self, module: nn.Module, args: tuple,
                    output: SAMPrompts) -> None:
        self.record.prompts = output

    def _adapter_hook(self, block: int):

        def on_adapter(module: nn.Module, args: tuple,
                       output: torch.Tensor) -> None:
            tokens = args[0].detach().float()
            change = (output.detach().float() - tokens).norm(dim=-1)
            self.record.adapters.append(
                AdapterRecord(block, change,
                              tokens.norm(dim=-1).flatten(1).mean(1)))

        return on_adapter
