"""The config an ablation run trains, and its digest.

A run is a config file and its ``--cfg-options``. Each file (with its
bases) is read once per process; every run's config is a copy with the
run's options merged. Its digest is what ``run.json`` keeps, so that a run
of an edited config is told apart from a run of the config as it is.
"""
import argparse
import copy
import functools
import hashlib
import json
from typing import Sequence

from mmengine.config import Config, DictAction


def parse_cfg_options(options: Sequence[str]) -> dict:
    """``key=value`` strings as mmengine's ``--cfg-options`` reads them."""
    namespace = argparse.Namespace()
    DictAction(
        option_strings=['--cfg-options'],
        dest='cfg_options')(argparse.ArgumentParser(), namespace,
                            list(options))
    return namespace.cfg_options


@functools.lru_cache(maxsize=None)
def _read_config(path: str) -> Config:
    """A config file with its bases, read once per process."""
    return Config.fromfile(path)


def run_config(config: str, cfg_options: Sequence[str]) -> Config:
    """The config of a run: the file with its bases, ``cfg_options``
    merged (a copy: the file's own config is left as read)."""
    cfg = copy.deepcopy(_read_config(config))
    cfg.merge_from_dict(parse_cfg_options(cfg_options))
    return cfg


def config_digest(config: str, cfg_options: Sequence[str]) -> str:
    """What a run trains, as 16 hex digits: the sha256 of
    :func:`run_config` as sorted JSON."""
    text = json.dumps(
        run_config(config, cfg_options).to_dict(),
        sort_keys=True,
        default=repr)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]
