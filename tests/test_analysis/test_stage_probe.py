"""The stage probe on a toy segmentor whose stages sleep known times."""
import time

import pytest
import torch
import torch.nn as nn

from sgsrf_mmseg.analysis.benchmark.meters import (SGSRF_STAGES, Clock,
                                                   StageProbe, stage_table)

MS = 1e-3
#: Slack of a measured stage over its sleeps (a busy machine wakes late).
SLACK_MS = 15


class Sleep(nn.Module):

    def __init__(self, ms: float):
        super().__init__()
        self.ms = ms

    def forward(self, x):
        time.sleep(self.ms * MS)
        return x


class PromptGenerator(nn.Module):
    """Sleeps itself, then calls another stage's module."""

    def __init__(self):
        super().__init__()
        self.body = Sleep(20)

    def forward(self, x, prompt_encoder):
        return prompt_encoder(self.body(x))


class Tower(nn.Module):
    """Never called itself: the head runs its blocks one by one."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Sleep(20), Sleep(20)])


class Head(nn.Module):

    def __init__(self):
        super().__init__()
        self.image_encoder = Tower()
        self.grounding_adapters = nn.ModuleList([Sleep(10)])
        self.prompt_encoder = Sleep(40)
        self.mask_decoder = Sleep(30)

    def decode(self, x):  # a method, not forward: the head fires no hook
        x = self.image_encoder.blocks[0](x)
        x = self.grounding_adapters[0](x)
        x = self.image_encoder.blocks[1](x)
        return self.mask_decoder(x)


class ToySegmentor(nn.Module):

    def __init__(self, with_prompt_generator=True):
        super().__init__()
        self.image_encoder = Sleep(30)
        self.text_encoder = Sleep(10)
        self.refiner = Sleep(20)
        self.prompt_generator = PromptGenerator() \
            if with_prompt_generator else None
        self.decode_head = Head()

    def forward(self, x):
        x = self.text_encoder(self.image_encoder(x))
        x = self.refiner(x)
        time.sleep(20 * MS)  # outside every stage
        if self.prompt_generator is not None:
            x = self.prompt_generator(x, self.decode_head.prompt_encoder)
        x = self.decode_head.decode(x)
        time.sleep(25 * MS)  # after the last stage: the tail
        return x


#: Expected ms: the prompt encoder runs inside GPG but counts as itself.
EXPECTED = dict(
    clip_image=30,
    clip_text=10,
    ccr=20,
    gpg=20,
    sam_encoder=50,
    sam_prompt_decoder=70,
    losses=25,
    other=20)


def probe_forward(model):
    clock = Clock(torch.device('cpu'))
    probe = StageProbe(model, SGSRF_STAGES, clock)
    probe.begin()
    start = clock.now()
    model(torch.zeros(1))
    end = clock.now()
    probe.stop()
    return probe, probe.stage_ms(start, end, 'losses'), clock.ms(start, end)


def test_stage_times_follow_the_sleeps():
    probe, ms, total = probe_forward(ToySegmentor())
    assert list(ms) == list(EXPECTED)
    for name, expected in EXPECTED.items():
        assert expected * 0.99 <= ms[name] < expected + SLACK_MS, (name, ms)
    assert sum(ms.values()) == pytest.approx(total, rel=1e-6)
    table = stage_table([ms, ms], total)
    assert table['ccr'].share == pytest.approx(ms['ccr'] / total, abs=1e-4)
    probe.remove()


def test_missing_stage_and_no_recording_when_stopped():
    model = ToySegmentor(with_prompt_generator=False)
    probe, ms, _ = probe_forward(model)
    assert 'gpg' not in ms
    assert ms['sam_prompt_decoder'] < 30 + SLACK_MS  # mask decoder only
    marks = len(probe.marks)
    model(torch.zeros(1))  # stopped: nothing recorded
    assert len(probe.marks) == marks
    probe.remove()
    assert not any(m._forward_hooks or m._forward_pre_hooks
                   for m in model.modules())


def test_no_stage_run_is_all_other():
    clock = Clock(torch.device('cpu'))
    model = ToySegmentor()
    probe = StageProbe(model, SGSRF_STAGES, clock)
    probe.begin()
    start = clock.now()
    time.sleep(10 * MS)
    end = clock.now()
    ms = probe.stage_ms(start, end, 'losses')
    assert 'losses' not in ms
    assert ms['other'] >= 10 and ms['ccr'] == 0
    probe.remove()
