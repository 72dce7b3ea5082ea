"""The results file of a test run: what was scored, how, and the scores.

``tools/test.py`` writes it as ``test_results.json`` into the run's log
folder (and wherever ``--results`` says); the results renderer
(``tools/analysis/render_results.py``) reads it. Fields::

    kind         "sgsrf-test-results"
    version      1
    command      the command line of the test run
    config       the config file as given
    checkpoint   the checkpoint file as given
    dataset      {"type", "data_root", "split"} of test_dataloader.dataset
    created      local time, ISO 8601, seconds
    expressions  number of scored expressions
    protocol     {"name", "resolution", "prec_rule", "empty_union_iou",
                  "threshold", "description"} (see ScoringProtocol)
    metrics      {"mIoU", "oIoU", "Prec@0.5", ..., "pointing", "drift"}:
                  percent, two decimals (pointing and drift where the model
                  gives a grounding cue)
    groups       {"small": {"count", "mIoU", "oIoU", "pointing", "drift"},
                  ..., "@<name>": {...}}: size bins, then categories and
                  test groups (pointing and drift null where not measured)
"""
import datetime
import json
from dataclasses import asdict
from typing import Any, Optional, Sequence

from ..utils.atomic_file import write_text_atomic
from .metrics import ReferringSegMetric

TEST_RESULTS_KIND = 'sgsrf-test-results'
TEST_RESULTS_VERSION = 1
TEST_RESULTS_FILE = 'test_results.json'


def referring_metric_of(evaluator: Any) -> Optional[ReferringSegMetric]:
    """The evaluator's :class:`ReferringSegMetric`, or None if it has none.

    Args:
        evaluator (Evaluator): mmengine's evaluator (``.metrics``).

    Returns:
        ReferringSegMetric | None: The metric.
    """
    found = [
        m for m in getattr(evaluator, 'metrics', [])
        if isinstance(m, ReferringSegMetric)
    ]
    if len(found) > 1:
        raise ValueError(f'the evaluator has {len(found)} ReferringSegMetric '
                         'metrics; a results file holds one')
    return found[0] if found else None


def collect_test_results(evaluator: Any, command: str, config: str,
                         checkpoint: str, dataset_cfg: dict) -> \
        Optional[dict]:
    """The results of a finished test run, ready for JSON.

    Args:
        evaluator (Evaluator): The test loop's evaluator, after the run.
        command (str): The command line of the run.
        config (str): Config file as given.
        checkpoint (str): Checkpoint file as given.
        dataset_cfg (dict): ``test_dataloader.dataset``.

    Returns:
        dict | None: The fields listed in the module docstring; None when
        nothing was scored (no :class:`ReferringSegMetric`, or
        ``format_only``), or on a rank other than the one that scored.
    """
    metric = referring_metric_of(evaluator)
    if metric is None or metric.summary is None:
        return None
    summary = metric.summary
    return dict(
        kind=TEST_RESULTS_KIND,
        version=TEST_RESULTS_VERSION,
        command=command,
        config=config,
        checkpoint=checkpoint,
        dataset={
            key: dataset_cfg.get(key)
            for key in ('type', 'data_root', 'split')
        },
        created=datetime.datetime.now().isoformat(timespec='seconds'),
        expressions=summary.expressions,
        protocol=metric.protocol.to_dict(),
        metrics=dict(summary.overall),
        groups={
            name: asdict(score)
            for name, score in summary.groups.items()
        })


def write_results_json(path: str,
                       results: dict,
                       overwrite: bool = True) -> None:
    """Write ``results`` as indented JSON to ``path`` (atomically).

    Args:
        path (str): Destination; its folder is created.
        results (dict): JSON-serialisable results.
        overwrite (bool): Replace an existing file; when False an existing
            file is an :class:`~sgsrf_mmseg.utils.atomic_file.
            OutputExistsError`. Defaults to True.
    """
    write_text_atomic(path, json.dumps(results, indent=2) + '\n', overwrite)


def save_test_results(evaluator: Any, paths: Sequence[str], command: str,
                      config: str, checkpoint: str,
                      dataset_cfg: dict) -> Optional[dict]:
    """Collect the results of a finished test run and write them.

    Args:
        evaluator (Evaluator): The test loop's evaluator, after the run.
        paths (Sequence[str]): Files to write (the same JSON in each).
        command (str): The command line of the run.
        config (str): Config file as given.
        checkpoint (str): Checkpoint file as given.
        dataset_cfg (dict): ``test_dataloader.dataset``.

    Returns:
        dict | None: The results written, or None when nothing was scored
        (see :func:`collect_test_results`); then no file is written.
    """
    results = collect_test_results(evaluator, command, config, checkpoint,
                                   dataset_cfg)
    if results is not None:
        for path in paths:
            write_results_json(path, results)
    return results
