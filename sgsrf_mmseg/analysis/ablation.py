"""Ablation runs: named config changes x seeds, trained, chosen on val, tested.

One run is ``tools/train.py`` (the checkpoint hook chooses the best
checkpoint on the validation split and names it in ``best_checkpoint``) and
then ``tools/test.py`` on that checkpoint (the test split), both as
subprocesses, in ``WORK/<variant>/seed<k>/``::

    train/              work dir of tools/train.py (checkpoints, logs)
    train.log           its output, every attempt appended
    test/               work dir of tools/test.py
    test.log            its output, every attempt appended
    test_results.json   the scores (tools/test.py --results)
    run.json            config and options of the run, then the wall times,
                        the chosen checkpoint and its val score

Resuming: a run whose ``test_results.json`` exists is not run again; a run
whose training finished is only tested; an interrupted training continues
from its last checkpoint (``tools/train.py --resume``). A run folder that
holds a run of another config or other options is refused, not reused,
and so is one whose config has been edited since (``run.json`` keeps a
digest of the resolved config: an edited config or base file that changes
a value changes it; edited code does not). ``run.json`` names the config
and the checkpoint relative to the repository, so that the records kept
there resume in any clone.

The seed goes in as ``randomness.seed=<k>``; options given to every run
come first, then the variant's, then the seed. The results of all runs are
gathered by :mod:`.ablation_results`.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Callable, List, Mapping, Optional, Sequence

from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from ..evaluation import write_results_json
from ..utils.portable_paths import PortablePaths
from .ablation_configs import config_digest, run_config
from .ablation_variants import VARIANTS
from .training_log import best_checkpoint_score

#: The config the variants change, relative to the repository root.
DEFAULT_CONFIG = 'configs/sgsrf/sgsrf_tiny_synthetic.py'
RESULTS_FILE = 'test_results.json'
RUN_FILE = 'run.json'
LOG_TAIL_LINES = 20

#: ``run_command(args, log_path, env) -> exit status``.
CommandRunner = Callable[[Sequence[str], str, Mapping[str, str]], int]


@dataclass(frozen=True)
class RunPlan:
    """One run of an ablation.

    Attributes:
        variant (str): Variant name.
        seed (int): Random seed.
        run_dir (str): ``WORK/<variant>/seed<k>``.
        config (str): Config file.
        cfg_options (tuple[str, ...]): ``key=value`` options, in order.
        config_digest (str): :func:`config_digest` of the two.
    """
    variant: str
    seed: int
    run_dir: str
    config: str
    cfg_options: tuple
    config_digest: str

    def path(self, name: str) -> str:
        """A file or folder of the run."""
        return osp.join(self.run_dir, name)


@dataclass(frozen=True)
class Tools:
    """The training and testing tools and the interpreter that runs them."""
    train: str
    test: str
    python: str = sys.executable


class RunFailed(Exception):
    """A run that stopped; the message names the run, stage and log."""

    def __init__(self, plan: RunPlan, stage: str, log: str, message: str):
        self.plan, self.stage, self.log = plan, stage, log
        self.tail = log_tail(log)
        super().__init__(f'{plan.variant} seed {plan.seed}: {stage} '
                         f'failed: {message} (log: {log})')

    def to_dict(self) -> dict:
        """What the ablation file records of the failure."""
        return dict(
            variant=self.plan.variant,
            seed=self.plan.seed,
            stage=self.stage,
            log=self.log,
            message=str(self))


def log_tail(path: str, lines: int = LOG_TAIL_LINES) -> List[str]:
    """The last lines of a log ([] when there is none)."""
    if not osp.isfile(path):
        return []
    with open(path, encoding='utf-8', errors='replace') as f:
        return [line.rstrip('\n') for line in deque(f, maxlen=lines)]


def plan_runs(
    variants: Sequence[str],
    seeds: Sequence[int],
    work_dir: str,
    repo_root: str,
    config: Optional[str] = None,
    cfg_options: Sequence[str] = (),
    digest: Callable[[str, Sequence[str]],
                     str] = config_digest) -> List[RunPlan]:
    """The runs of an ablation, variant by variant, seed by seed.

    Args:
        variants (Sequence[str]): Names in :data:`VARIANTS`.
        seeds (Sequence[int]): Seeds.
        work_dir (str): Where the run folders go.
        repo_root (str): Repository root (variant config files).
        config (str, optional): The config to ablate; None takes
            :data:`DEFAULT_CONFIG`. Variants with their own config file
            only go with the default. Defaults to None.
        cfg_options (Sequence[str]): ``key=value`` options of every run.
            Defaults to ().
        digest (Callable): ``digest(config, cfg_options)`` of a run.
            Defaults to :func:`config_digest`.

    Returns:
        list[RunPlan]: The runs.
    """
    unknown = [name for name in variants if name not in VARIANTS]
    if unknown:
        raise ValueError(f'unknown variants {unknown}; known: '
                         f'{list(VARIANTS)}')
    for what, values in (('variants', variants), ('seeds', seeds)):
        if len(set(values)) != len(values) or not values:
            raise ValueError(f'{what} must be distinct and not empty, got '
                             f'{list(values)}')
    bad = [o for o in cfg_options if '=' not in o]
    if bad:
        raise ValueError(f'cfg-options must be key=value, got {bad}')
    plans = []
    for name in variants:
        variant = VARIANTS[name]
        if variant.config and config is not None:
            raise ValueError(
                f'variant {name!r} has its own config ({variant.config}), '
                f'which does not apply to {config}; leave it out or use the '
                'default config')
        if variant.config:
            path = osp.join(repo_root, variant.config)
        else:
            path = config or osp.join(repo_root, DEFAULT_CONFIG)
        options = list(cfg_options) + [
            f'{key}={value}' for key, value in variant.cfg_options.items()
        ]
        for seed in seeds:
            run_options = tuple(options + [f'randomness.seed={seed}'])
            plans.append(
                RunPlan(name, int(seed), osp.join(work_dir, name,
                                                  f'seed{seed}'), path,
                        run_options, digest(path, run_options)))
    return plans


def run_logged(args: Sequence[str], log_path: str, env: Mapping[str,
                                                                str]) -> int:
    """Run a command, appending its output to ``log_path``; its status."""
    with open(log_path, 'a', encoding='utf-8') as log:
        log.write(f'==== {time.strftime("%Y-%m-%d %H:%M:%S")} '
                  f'{subprocess.list2cmdline(list(args))}\n')
        log.flush()
        return subprocess.run(
            list(args), stdout=log, stderr=subprocess.STDOUT,
            env=dict(env)).returncode


def _start_record(plan: RunPlan) -> dict:
    """The run's ``run.json``: read and checked, or started."""
    path = plan.path(RUN_FILE)
    planned = dict(
        variant=plan.variant,
        seed=plan.seed,
        config=PortablePaths().path(plan.config),
        cfg_options=list(plan.cfg_options),
        config_digest=plan.config_digest)
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
        same_run = ('variant', 'seed', 'config', 'cfg_options')
        if any(record.get(k) != planned[k] for k in same_run):
            raise RunFailed(
                plan, 'setup', path,
                f'{plan.run_dir} holds a run of {record.get("config")} with '
                f'options {record.get("cfg_options")}; use another work dir '
                'or remove that folder')
        if record.get('config_digest') != plan.config_digest:
            raise RunFailed(
                plan, 'setup', path,
                f'{plan.run_dir} holds a run of another version of '
                f'{planned["config"]} (config digest '
                f'{record.get("config_digest")}, now {plan.config_digest}): '
                'its scores are not those of this config; remove that '
                'folder to run it again')
        return record
    os.makedirs(plan.run_dir, exist_ok=True)
    write_results_json(path, planned)
    return planned


def _run_stage(plan: RunPlan, stage: str, args: List[str],
               run_command: CommandRunner, env: Mapping[str, str]) -> float:
    """Run one tool; its wall time in seconds, or :class:`RunFailed`."""
    log = plan.path(f'{stage}.log')
    start = time.monotonic()
    status = run_command(args, log, env)
    if status != 0:
        raise RunFailed(plan, stage, log, f'exit status {status}')
    return round(time.monotonic() - start, 1)


def run_one(plan: RunPlan, tools: Tools, run_command: CommandRunner,
            env: Mapping[str, str]) -> dict:
    """Train (unless done), then test (unless done) one run.

    Args:
        plan (RunPlan): The run.
        tools (Tools): The tools.
        run_command (CommandRunner): Runs a command into a log.
        env (Mapping[str, str]): Environment of the commands.

    Returns:
        dict: The run's ``run.json``: ``variant``, ``seed``, ``config``,
        ``cfg_options``, ``train_s``, ``checkpoint``, ``val`` (``metric``,
        ``iter``, ``score``), ``test_s`` (None if the test finished in an
        earlier attempt that was stopped before recording it) and
        ``reused`` (True when nothing was run).
    """
    record = _start_record(plan)
    results = plan.path(RESULTS_FILE)
    if osp.isfile(results):
        return dict(record, reused=True)
    train_dir, options = plan.path('train'), list(plan.cfg_options)
    if 'train_s' not in record:
        resume = ['--resume'] if osp.isfile(
            osp.join(train_dir, 'last_checkpoint')) else []
        train_s = _run_stage(plan, 'train', [
            tools.python, tools.train, plan.config, '--work-dir', train_dir,
            *resume, '--cfg-options', *options
        ], run_command, env)
        try:
            best = best_checkpoint_score(train_dir)
        except (OSError, ValueError) as error:
            raise RunFailed(plan, 'train', plan.path('train.log'),
                            str(error)) from None
        record.update(
            train_s=train_s,
            checkpoint=PortablePaths().path(best.pop('checkpoint')),
            val=best)
        write_results_json(plan.path(RUN_FILE), record)
    record['test_s'] = _run_stage(plan, 'test', [
        tools.python, tools.test, plan.config,
        osp.join(PortablePaths().root, osp.expandvars(record['checkpoint'])),
        '--work-dir',
        plan.path('test'), '--results', results, '--cfg-options', *options
    ], run_command, env)
    if not osp.isfile(results):
        raise RunFailed(plan, 'test', plan.path('test.log'),
                        f'tools/test.py wrote no {results}')
    write_results_json(plan.path(RUN_FILE), record)
    return dict(record, reused=False)


def finished_runs(plans: Sequence[RunPlan]) -> dict:
    """The ``run.json`` records of the planned runs that were tested
    (their ``test_results.json`` exists), by ``(variant, seed)``; nothing is
    run."""
    return {
        (plan.variant, plan.seed): dict(_start_record(plan), reused=True)
        for plan in plans if osp.isfile(plan.path(RESULTS_FILE))
    }


def prepare_datasets(plans: Sequence[RunPlan]) -> None:
    """Build the train, val and test datasets of each planned config once.

    What a dataset makes on first use (the synthetic scenes, caches) is made
    here, before runs in parallel would race to make it; a dataset that
    cannot be read fails here, before any training.

    Args:
        plans (Sequence[RunPlan]): The runs; one per config is built.
    """
    for plan in {plan.config: plan for plan in plans}.values():
        cfg = run_config(plan.config, plan.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        for split in ('train', 'val', 'test'):
            loader = cfg.get(f'{split}_dataloader')
            if loader:
                DATASETS.build(loader['dataset'])


def available_cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_ablation(plans: Sequence[RunPlan],
                 tools: Tools,
                 jobs: int = 1,
                 run_command: CommandRunner = run_logged,
                 report: Callable[[str], Any] = print):
    """Run the planned runs, ``jobs`` at a time.

    Each run's commands get ``OMP_NUM_THREADS`` = cores // ``jobs`` (at
    least 1). A run that fails is reported and the others go on.

    Args:
        plans (Sequence[RunPlan]): The runs.
        tools (Tools): The tools.
        jobs (int): Runs in parallel. Defaults to 1.
        run_command (CommandRunner): Runs a command into a log.
            Defaults to :func:`run_logged`.
        report (Callable[[str], Any]): Receives a line per finished run.
            Defaults to print.

    Returns:
        tuple[dict, list[RunFailed]]: ``run.json`` records by
        ``(variant, seed)``, and the failures.
    """
    if jobs < 1:
        raise ValueError(f'jobs must be >= 1, got {jobs}')
    threads = max(1, available_cores() // jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    records, failures = {}, []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(run_one, plan, tools, run_command, env): plan
            for plan in plans
        }
        for done, future in enumerate(as_completed(futures), start=1):
            plan = futures[future]
            prefix = f'[{done}/{len(plans)}] {plan.variant} seed {plan.seed}'
            try:
                record = future.result()
            except RunFailed as failure:
                failures.append(failure)
                report(f'{prefix}: FAILED\n{failure}\n' +
                       '\n'.join(f'    {line}' for line in failure.tail))
                continue
            records[(plan.variant, plan.seed)] = record
            report(f'{prefix}: ' + ('already done' if record['reused'] else
                                    f'trained in {record["train_s"]} s, '
                                    f'tested in {record["test_s"]} s'))
    return records, failures
