"""Time the stages of a forward pass with forward hooks on named submodules.

The probe never calls the model's methods: whoever drives the forward
(``model(..., mode='loss')``, ``predict``, ``train_step``), each submodule
called through ``__call__`` fires its hooks, and the probe takes a
timestamp whenever the running stage changes.
"""
from typing import Dict, List, Mapping, Optional, Sequence

import torch.nn as nn

from .meters import Clock
from .results import mean

#: Stages of the SGSRF segmentor: stage -> paths of its submodules
#: (relative to the segmentor; a missing or None submodule is skipped).
SGSRF_STAGES: Dict[str, Sequence[str]] = {
    'clip_image': ('image_encoder', ),
    'clip_text': ('text_encoder', ),
    'ccr': ('refiner', ),
    'gpg': ('prompt_generator', ),
    'sam_encoder':
    ('decode_head.image_encoder', 'decode_head.grounding_adapters'),
    'sam_prompt_decoder':
    ('decode_head.prompt_encoder', 'decode_head.mask_decoder'),
}
OTHER = 'other'


class StageProbe:
    """Milliseconds of each stage in one forward pass.

    Every module under a stage's paths gets a forward pre-hook and a forward
    hook, so a stage is seen however its modules are called (a tower run
    block by block included). Time goes to the innermost stage running: a
    stage called from inside another one counts as itself, not as its
    caller. From the moment the last stage returns to the end of the
    forward is the *tail* (losses, post-processing); the rest of the
    forward, outside every stage, is ``other``.

    Args:
        model (nn.Module): The root module.
        stages (Mapping[str, Sequence[str]]): Stage -> submodule paths.
        clock (Clock): Timestamp source.
    """

    def __init__(self, model: nn.Module, stages: Mapping[str, Sequence[str]],
                 clock: Clock):
        self.clock = clock
        self.active = False
        self.running: List[str] = []
        self.marks: list = []  # (timestamp, stage running from then on)
        self.handles = []
        self.stages: List[str] = []
        modules = dict(model.named_modules())
        hooked = set()
        for stage, paths in stages.items():
            roots = [modules[p] for p in paths if p in modules]
            if roots:
                self.stages.append(stage)
            for module in (m for root in roots for m in root.modules()):
                if id(module) in hooked:
                    continue
                hooked.add(id(module))
                self.handles += [
                    module.register_forward_pre_hook(
                        lambda *_, stage=stage: self._enter(stage)),
                    module.register_forward_hook(
                        lambda *_, stage=stage: self._leave())
                ]

    def _mark(self, stage: Optional[str]) -> None:
        """Take a timestamp: ``stage`` (None: no stage) runs from now."""
        self.marks.append((self.clock.now(), stage))

    def _enter(self, stage: str) -> None:
        if not self.active:
            return
        if not self.running or self.running[-1] != stage:
            self._mark(stage)
        self.running.append(stage)

    def _leave(self) -> None:
        if not self.active or not self.running:
            return
        stage = self.running.pop()
        now_running = self.running[-1] if self.running else None
        if now_running != stage:
            self._mark(now_running)

    def begin(self) -> None:
        """Start recording one forward pass."""
        self.marks.clear()
        self.running.clear()
        self.active = True

    def stop(self) -> None:
        """Stop recording (before the backward pass)."""
        self.active = False

    def stage_ms(self, forward_start, forward_end,
                 tail: str) -> Dict[str, float]:
        """Stage milliseconds of the recorded forward (after a sync).

        Args:
            forward_start: Clock timestamp before the forward.
            forward_end: Clock timestamp at its end.
            tail (str): Name of the time after the last stage returns.

        Returns:
            dict[str, float]: Every stage found in the model, then ``tail``
            (when a stage ran) and ``other``.
        """
        ms = dict.fromkeys(self.stages, 0.0)
        ms[OTHER] = 0.0
        spans = [(forward_start, None)] + self.marks + [(forward_end, None)]
        for i, ((start, stage), (end, _)) in enumerate(zip(spans, spans[1:])):
            name = stage or (tail if i == len(spans) - 2 and i else OTHER)
            ms[name] = ms.get(name, 0.0) + self.clock.ms(start, end)
        ms[OTHER] = ms.pop(OTHER)  # last, after the tail
        return ms

    def remove(self) -> None:
        """Remove the hooks."""
        for handle in self.handles:
            handle.remove()
        self.handles.clear()


def stage_table(per_iter: List[Dict[str, float]],
                forward_ms: float) -> Dict[str, dict]:
    """Mean ms per stage and its share of the forward time.

    Args:
        per_iter (list[dict[str, float]]): :meth:`StageProbe.stage_ms` of
            each timed iteration.
        forward_ms (float): Mean forward milliseconds.

    Returns:
        dict[str, dict]: Stage -> ``ms`` and ``share`` (None when the
        forward took no time).
    """
    table = {}
    for name in per_iter[0]:
        ms = mean([it.get(name, 0.0) for it in per_iter])
        table[name] = dict(
            ms=round(ms, 3),
            share=round(ms / forward_ms, 4) if forward_ms > 0 else None)
    return table
