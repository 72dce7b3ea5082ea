"""A tiny mmengine training run used by the engine tests (also a script).

``python toy_training.py WORK_DIR [--resume] [--kill-at-save N] [--val]``
trains a linear model for 6 iterations with checkpoints every 2; with
``--kill-at-save N`` the process SIGKILLs itself half-way through writing
the checkpoint of iteration N; with ``--val`` it validates every 2
iterations on a score that improves each time and keeps the best
checkpoint (``save_best='score'``).
"""
import argparse
import os
import os.path as osp
import signal
import sys

import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import sgsrf_mmseg  # noqa: F401


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)
        # Random in training: a resumed run matches an uninterrupted one
        # only if the random number generator states are restored.
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, inputs, targets, mode='tensor'):
        pred = self.linear(self.dropout(torch.stack(inputs)))
        if mode == 'loss':
            return dict(loss=((pred - torch.stack(targets))**2).mean())
        return pred


class ToyDataset(torch.utils.data.Dataset):

    def __init__(self):
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(32, 4, generator=generator)
        self.y = self.x.sum(1, keepdim=True)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], targets=self.y[i])


class ImprovingScore(BaseMetric):
    """A validation score that is better at every validation."""

    def __init__(self):
        super().__init__()
        self.validations = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        self.validations += 1
        return dict(score=float(self.validations))


def build_runner(work_dir,
                 resume=False,
                 max_keep_ckpts=2,
                 runner_cls=Runner,
                 load_from=None,
                 val=False):
    torch.manual_seed(0)
    checkpoint = dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=2,
        max_keep_ckpts=max_keep_ckpts)
    validation = {}
    if val:
        checkpoint.update(save_best='score', rule='greater')
        validation = dict(
            val_dataloader=dict(
                dataset=ToyDataset(),
                sampler=dict(type='DefaultSampler', shuffle=False),
                batch_size=8,
                num_workers=0),
            val_evaluator=[ImprovingScore()],
            val_cfg=dict())
    return runner_cls(
        model=ToyModel(),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        custom_hooks=[dict(type='NonFiniteLossGuardHook')],
        train_cfg=dict(by_epoch=False, max_iters=6, val_interval=2),
        default_hooks=dict(checkpoint=checkpoint),
        randomness=dict(seed=0),
        resume=resume,
        load_from=load_from,
        default_scope='mmseg',
        **validation)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('work_dir')
    parser.add_argument('--resume', action='store_true')
    parser.add_argument('--kill-at-save', type=int)
    parser.add_argument('--val', action='store_true')
    args = parser.parse_args()
    if args.kill_at_save:
        from mmengine.fileio.backends.local_backend import LocalBackend
        original_put = LocalBackend.put

        def put_then_die(self, obj, filepath):
            if f'iter_{args.kill_at_save}.pth' in str(filepath):
                with open(filepath, 'wb') as f:
                    f.write(obj[:len(obj) // 2])
                    f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            original_put(self, obj, filepath)

        LocalBackend.put = put_then_die
    build_runner(args.work_dir, resume=args.resume, val=args.val).train()


if __name__ == '__main__':
    main()
