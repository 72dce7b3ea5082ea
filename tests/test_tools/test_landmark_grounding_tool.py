"""The landmark check: CCR's landmark map against the generator's landmark
boxes, with a tiny model on the small synthetic dataset."""
import json
import re
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from tool_runner import run_tool

from sgsrf_mmseg.analysis.landmark_grounding import (MEASURES,
                                                     landmark_grounding,
                                                     landmark_rows, summarise,
                                                     with_landmark_map)
from sgsrf_mmseg.models.losses.landmark_structure import landmark_cells

RELATION_PRIOR = "model = dict(refiner=dict(relation_prior=True))\n"


def measured(*values):
    """A row's (or a group's) measures, in the order of MEASURES."""
    return dict(zip(MEASURES, values))


def test_summarise_averages_each_group_and_splits_it_by_the_peak():
    rows = [
        dict(
            measured(0.5, 0.1, 1.0, 1.0, 0.0),
            tags=('relation', 'look_alike')),
        dict(measured(0.1, 0.3, 0.0, 0.0, 1.0), tags=('relation', )),
    ]
    groups = summarise(rows)
    assert groups['all'] == dict(
        expressions=2, **measured(30.0, 20.0, 50.0, 50.0, 50.0))
    assert groups['look_alike'] == dict(
        expressions=1, **measured(50.0, 10.0, 100.0, 100.0, 0.0))
    assert groups['relation, landmark found'] == groups['look_alike']
    assert groups['relation, landmark missed'] == dict(
        expressions=1, **measured(10.0, 30.0, 0.0, 0.0, 100.0))
    # a split with no member is left out
    assert 'look_alike, landmark missed' not in groups


def _batch(config):
    cfg = Config.fromfile(config)
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.pipeline = with_landmark_map(dataset_cfg.pipeline)
    dataset = DATASETS.build(dataset_cfg)
    batch = [dataset[i] for i in range(len(dataset))]
    return cfg, [
        b for b in batch if b['data_samples'].gt_landmark_map.data.any()
    ]


class PlantedMap:
    """A model whose landmark map is given, ``plant(cells)`` per sample,
    with a cue on the target's cells that its relation term alone puts
    there."""

    def __init__(self, model, plant):
        self.data_preprocessor = model.data_preprocessor
        self.plant = plant

    def ground(self, inputs, texts):
        self.texts = texts
        grid = (inputs.shape[-2] // 16, inputs.shape[-1] // 16)
        cells = landmark_cells(
            torch.stack([s.gt_landmark_map.data[0] for s in self.samples]),
            grid)
        target = landmark_cells(
            torch.stack([(s.gt_sem_seg.data[0] == 1).float()
                         for s in self.samples]), grid).view(-1, 1, *grid)
        landmark = SimpleNamespace(patch_weights=self.plant(cells))
        return SimpleNamespace(
            grounding=SimpleNamespace(
                landmark=landmark,
                cue_logits=target,
                relation_logits=2 * target))


@pytest.mark.parametrize('plant,mass,peak', [
    (lambda cells: cells / cells.sum(1, keepdim=True), 100.0, 100.0),
    (lambda cells: torch.ones_like(cells) / cells.shape[1], None, None),
    (lambda cells: (1 - cells) / (1 - cells).sum(1, keepdim=True), 0.0, 0.0),
])
def test_the_rows_measure_the_map_against_the_boxes(write_config, plant, mass,
                                                    peak):
    cfg, batch = _batch(write_config(extra=RELATION_PRIOR))
    assert batch, 'the small dataset has expressions with landmarks'
    model = PlantedMap(MODELS.build(cfg.model), plant)
    model.samples = [b['data_samples'] for b in batch]
    groups = summarise(landmark_rows(model, batch))
    assert groups['all']['expressions'] == len(batch)
    if mass is None:  # a uniform map: its mass is the chance level
        assert groups['all']['mass'] == pytest.approx(
            groups['all']['uniform'], abs=0.01)
        assert 0 < groups['all']['uniform'] < 50
    else:
        assert (groups['all']['mass'], groups['all']['peak']) == (mass, peak)
    # the cue peaks on the target; without its relation term, off it
    assert groups['all']['pointing'] == 100.0
    assert groups['all']['pointing_without_relation'] == 0.0


def test_a_model_without_the_relation_term_is_refused(write_config):
    with pytest.raises(ValueError, match='relation_prior=True'):
        landmark_grounding(write_config(), None, device='cpu')


def test_rows_come_only_from_expressions_with_a_landmark(write_config):
    cfg, batch = _batch(write_config(extra=RELATION_PRIOR))
    model = MODELS.build(cfg.model).eval()
    rows = landmark_rows(model, batch)
    assert len(rows) == len(batch)
    assert all('relation' in row['tags'] for row in rows)
    collated = pseudo_collate(batch)
    assert len(collated['inputs']) == len(rows)


@pytest.mark.slow
def test_landmark_grounding_tool(tmp_path, write_config):
    config = write_config(extra=RELATION_PRIOR)
    model = MODELS.build(Config.fromfile(config).model)
    checkpoint = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    done = run_tool([
        sys.executable, 'tools/analysis/landmark_grounding.py', config,
        str(checkpoint), '--device', 'cpu'
    ])
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(
        (tmp_path / 'landmark_grounding_test.json').read_text())
    assert result['kind'] == 'sgsrf-landmark-grounding'
    assert result['command'].startswith(
        'python tools/analysis/landmark_grounding.py')
    row = result['groups']['all']
    line = (rf"^all +{row['expressions']} +{row['mass']:.2f} +"
            rf"{row['uniform']:.2f} +{row['peak']:.2f} +"
            rf"{row['pointing']:.2f} +"
            rf"{row['pointing_without_relation']:.2f}$")
    assert re.search(line, done.stdout, re.M), done.stdout
