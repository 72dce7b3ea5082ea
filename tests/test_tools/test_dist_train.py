import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from tool_runner import REPO, run_tool

from sgsrf_mmseg.utils.compat import load_local_checkpoint

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow


def test_two_cpu_processes_train_in_step(tmp_path, write_config):
    config = write_config(
        max_iters=3,
        interval=3,
        extra=("custom_imports = dict(imports=['sgsrf_mmseg', "
               "'rank_weights_hook'], allow_failed_imports=False)\n"
               "custom_hooks = [dict(type='RankWeightsHook')]\n"))
    work_dir = tmp_path / 'work'
    result = run_tool([
        'bash',
        osp.join(REPO, 'tools/dist_train.sh'), config, '2', '--work-dir',
        str(work_dir)
    ],
                      cwd=str(tmp_path),
                      env=dict(PORT='29517', PYTHONPATH=osp.dirname(__file__)),
                      timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [
        torch.load(work_dir / f'rank{r}_weights.pth', weights_only=True)
        for r in (0, 1)
    ]
    assert ranks[0]['iter'] == ranks[1]['iter'] == 3
    saved = load_local_checkpoint(str(work_dir / 'iter_3.pth'))['state_dict']
    for name, tensor in ranks[0]['state_dict'].items():
        torch.testing.assert_close(ranks[1]['state_dict'][name], tensor)
        torch.testing.assert_close(saved[name], tensor)
    # The log says the run was distributed over two gloo processes
    # (mmengine calls the world size "GPU number").
    log = open(next(work_dir.glob('*/*.log'))).read()
    assert "dist_cfg: {'backend': 'gloo'}" in log
    assert 'Distributed training: True' in log and 'GPU number: 2' in log


#: Input size of the short-config run: the synthetic scenes' own size.
TINY_INPUT = 128


def tiny_run_options(config, data_root):
    """``--cfg-options`` that run a benchmark config for two iterations on
    tiny RefSegRS-layout data: no weight files, the towers at full width
    but frozen, 128-px input, one image per batch."""
    cfg = Config.fromfile(osp.join(REPO, config))
    size = f'({TINY_INPUT},{TINY_INPUT})'
    gold = osp.join(data_root, 'output_phrase_train.gold_parses.json')
    options = [
        f'model.data_preprocessor.size={size}',
        f'model.image_encoder.img_size={TINY_INPUT}',
        f'model.decode_head.sam.img_size={TINY_INPUT}',
        'train_dataloader.dataset.text_parser.model=' +
        osp.join(data_root, 'spacy_parser'),
        f'train_dataloader.dataset.text_parser.train_from=[{gold}]',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1'
    ]
    for tower in ('image_encoder', 'text_encoder', 'decode_head'):
        options += [
            f'model.{tower}.pretrained=None', f'model.{tower}.frozen_stages=12'
        ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [
            f'{loader}.batch_size=1', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
            f'{loader}.dataset.data_root={data_root}'
        ]
        for i, step in enumerate(cfg[loader].dataset.pipeline):
            if step.type == 'Resize':
                options.append(f'{loader}.dataset.pipeline.{i}.scale={size}')
    return options


def test_short_refsegrs_config_trains_on_two_cpu_processes(
        tmp_path, synthetic_root):
    config = 'configs/sgsrf/sgsrf_refsegrs.py'
    work_dir = tmp_path / 'work'
    result = run_tool(
        [
            'bash', 'tools/dist_train.sh', config, '2', '--work-dir',
            str(work_dir), '--cfg-options'
        ] + tiny_run_options(config, synthetic_root),
        env=dict(PORT='29518'),
        timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    log = open(next(work_dir.glob('*/*.log'))).read()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    assert re.search(r'Iter\(train\) \[2/2\].*loss_struct', log), log[-3000:]
    assert re.search(r'Iter\(val\) .*mIoU', log), log[-3000:]
    saved = load_local_checkpoint(str(work_dir / 'iter_2.pth'))
    assert saved['meta']['iter'] == 2
    assert saved['state_dict']['decode_head.image_encoder.pos_embed'].shape[
        1:3] == (TINY_INPUT // 16, TINY_INPUT // 16)
