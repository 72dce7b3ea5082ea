"""Turn a config and command-line choices into a runnable runner config."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from ..utils.command_line import add_debug_option
from .config_check import check_config
from .strict_runner import NothingToResumeError, latest_checkpoint

#: Optimizer wrapper types that already run in mixed precision.
_AMP_WRAPPERS = ('AmpOptimWrapper', 'AutocastOptimWrapper')


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options ``tools/train.py`` and ``tools/test.py`` share."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (e.g. '
        'train_dataloader.dataset.data_root=/data/RRSIS-D)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_option(parser)


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and merge ``--cfg-options`` into it."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def select_dist_backend(cfg: Config) -> None:
    """Make ``env_cfg.dist_cfg.backend`` follow the device when 'auto'.

    ``'auto'`` (or no backend) becomes ``'nccl'`` where CUDA is available
    and ``'gloo'`` elsewhere; a backend named in the config is kept.
    """
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if dist_cfg.get('backend') in (None, 'auto'):
        dist_cfg['backend'] = 'nccl' if torch.cuda.is_available() else 'gloo'


def init_cpu_distributed(cfg: Config) -> None:
    """Start a distributed run on a machine without CUDA.

    mmengine 0.10.7 calls ``torch.cuda.set_device`` while initialising any
    launcher and gives DDP the local rank as its device, both of which fail
    without a GPU. For the ``pytorch`` launcher on CPU, the process group is
    initialised here from torchrun's environment (the runner then skips its
    own initialisation) and DDP wraps the model with ``device_ids=None``.
    """
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    if cfg.launcher != 'pytorch':
        raise ValueError(f'--launcher {cfg.launcher} needs GPUs; on a CPU '
                         'machine use --launcher pytorch (tools/dist_*.sh)')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend=cfg.env_cfg.dist_cfg.backend)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision.

    As MMSegmentation's own ``tools/train.py --amp`` does, an
    ``OptimWrapper`` becomes mmengine's ``AmpOptimWrapper`` on CUDA (bf16
    where the GPU supports it, else fp16, with dynamic loss scaling). On a
    CPU, where ``AmpOptimWrapper`` refuses to start, it becomes
    ``AutocastOptimWrapper`` (bf16 autocast, no loss scaling). A wrapper
    that is already one of these is kept. The non-finite loss guard is a
    hook and holds for either.
    """
    wrapper = cfg.optim_wrapper
    kind = wrapper.get('type', 'OptimWrapper')
    if kind in _AMP_WRAPPERS:
        return
    if kind != 'OptimWrapper':
        raise ValueError(f'--amp: optim_wrapper.type={kind!r} has no mixed '
                         "precision variant; --amp needs 'OptimWrapper'")
    if torch.cuda.is_available():
        wrapper.type = 'AmpOptimWrapper'
        wrapper.dtype = ('bfloat16'
                         if torch.cuda.is_bf16_supported() else 'float16')
        wrapper.setdefault('loss_scale', 'dynamic')
    else:
        wrapper.type = 'AutocastOptimWrapper'
        wrapper.dtype = 'bfloat16'


def _set_launch(cfg: Config, config_path: str, work_dir: Optional[str],
                launcher: str) -> None:
    """Set the launcher, the work dir and the distributed backend."""
    cfg.launcher = launcher
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(config_path))[0])
    select_dist_backend(cfg)


def _set_resume(cfg: Config, resume: Optional[str]) -> None:
    """Resolve ``--resume`` / ``--auto-resume`` into ``resume``/``load_from``.

    An explicit resume that finds nothing fails here, before anything is
    built (:class:`NothingToResumeError`).
    """
    if resume is None:
        return
    if resume == 'auto':
        cfg.resume, cfg.load_from = 'auto', None
        return
    if resume == 'latest':
        resume = latest_checkpoint(cfg.work_dir)
    elif not osp.isfile(resume):
        raise NothingToResumeError(
            f'--resume: checkpoint {resume} does not exist')
    cfg.resume, cfg.load_from = True, resume


def prepare_train_config(cfg: Config,
                         config_path: str,
                         work_dir: Optional[str] = None,
                         launcher: str = 'none',
                         amp: bool = False,
                         resume: Optional[str] = None) -> Config:
    """Apply ``tools/train.py``'s options to ``cfg`` and check it.

    Args:
        cfg (Config): The loaded config (``--cfg-options`` merged).
        config_path (str): Its file, for the default work dir.
        work_dir (str, optional): Overrides ``cfg.work_dir``.
        launcher (str): 'none', 'pytorch', 'slurm' or 'mpi'.
        amp (bool): Mixed precision training.
        resume (str, optional): 'latest' resumes from the checkpoint the
            work dir's ``last_checkpoint`` names and fails when there is
            none; a path resumes from that checkpoint; 'auto' resumes from
            the latest checkpoint when there is one and starts from scratch
            otherwise (mmengine's auto resume). Defaults to None.

    Returns:
        Config: ``cfg``, updated in place.
    """
    _set_launch(cfg, config_path, work_dir, launcher)
    if amp:
        enable_amp(cfg)
    _set_resume(cfg, resume)
    check_config(cfg, stages=('train', 'val'))
    init_cpu_distributed(cfg)
    return cfg


def prepare_test_config(cfg: Config,
                        config_path: str,
                        checkpoint: str,
                        work_dir: Optional[str] = None,
                        launcher: str = 'none') -> Config:
    """Apply ``tools/test.py``'s options to ``cfg`` and check it.

    Args:
        cfg (Config): The loaded config (``--cfg-options`` merged).
        config_path (str): Its file, for the default work dir.
        checkpoint (str): The weights to test.
        work_dir (str, optional): Overrides ``cfg.work_dir``.
        launcher (str): 'none', 'pytorch', 'slurm' or 'mpi'.

    Returns:
        Config: ``cfg``, updated in place.
    """
    _set_launch(cfg, config_path, work_dir, launcher)
    cfg.load_from = checkpoint
    check_config(cfg, stages=('test', ), checkpoint=checkpoint)
    init_cpu_distributed(cfg)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The runner ``cfg`` asks for: ``runner_type`` from mmseg's registry.

    Args:
        cfg (Config): A prepared config.

    Returns:
        Runner: mmengine's ``Runner`` when ``runner_type`` is not set (the
        project's configs set :class:`StrictRunner`).
    """
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
