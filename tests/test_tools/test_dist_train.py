import os.path as osp

import torch
from tool_runner import REPO, run_tool

from sgsrf_mmseg.utils.compat import load_local_checkpoint


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
