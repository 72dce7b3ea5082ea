"""The ablation runner with a fake command runner that writes what the tools
write: planning, resuming, failure reports and the mean/std over seeds."""
import json
import os
import os.path as osp
import statistics

import pytest

from sgsrf_mmseg.analysis.ablation import (VARIANTS, RunFailed, Tools,
                                           available_cores, finished_runs,
                                           plan_runs, run_ablation)
from sgsrf_mmseg.analysis.ablation_configs import (config_digest,
                                                   parse_cfg_options)
from sgsrf_mmseg.analysis.ablation_results import (ablation_file,
                                                   flat_test_metrics,
                                                   format_summary)

TOOLS = Tools(train='TRAIN.py', test='TEST.py', python='PY')
#: Test mIoU of seed 0 per variant; seed k adds 2k.
BASE = {'full': 60.0, 'no_scr_terms': 50.0, 'no_gpg': 40.0}


def fixed_digest(config, cfg_options):
    """Stands in for config_digest where the config files do not exist."""
    return 'digest-of-' + osp.basename(config)


def option_values(args):
    return dict(
        option.split('=', 1)
        for option in args[args.index('--cfg-options') + 1:])


class FakeTools:
    """Stands in for tools/train.py and tools/test.py: writes their files.

    Args:
        fail (dict): ``(variant, stage)`` -> what the failing tool leaves:
            'crash' (exit 1), 'checkpoint-then-crash' (a last_checkpoint,
            then exit 1) or 'no-best' (exit 0 without best_checkpoint).
    """

    def __init__(self, fail=None):
        self.fail = fail or {}
        self.calls = []

    def __call__(self, args, log_path, env):
        run_dir = osp.dirname(log_path)
        variant = osp.basename(osp.dirname(run_dir))
        stage = 'train' if args[1] == TOOLS.train else 'test'
        self.calls.append((variant, stage, list(args), dict(env)))
        seed = int(option_values(args)['randomness.seed'])
        with open(log_path, 'a') as log:
            log.write(''.join(f'{stage} progress {i}\n' for i in range(30)))
            mode = self.fail.get((variant, stage))
            if mode in ('crash', 'checkpoint-then-crash'):
                if mode == 'checkpoint-then-crash':
                    write(osp.join(run_dir, 'train', 'last_checkpoint'), 'x')
                log.write('Traceback (most recent call last):\n'
                          'RuntimeError: boom\n')
                return 1
        if stage == 'train':
            self.write_training(run_dir, seed, mode != 'no-best')
        else:
            self.write_results(args[args.index('--results') + 1], variant,
                               seed)
        return 0

    @staticmethod
    def write_training(run_dir, seed, best):
        work = osp.join(run_dir, 'train')
        lines = [
            dict(iter=1, step=1, loss=1.0, grad_norm=3.0),
            dict(mIoU=30.0 + seed, step=1),
            dict(iter=2, step=2, loss=0.5, grad_norm=0.5),
            dict(mIoU=70.0 + seed, oIoU=1.0, step=2),
        ]
        write(
            osp.join(work, '20260101_000000', 'vis_data', 'scalars.json'),
            ''.join(json.dumps(line) + '\n' for line in lines))
        write(osp.join(work, 'last_checkpoint'), osp.join(work, 'iter_2.pth'))
        if best:
            write(
                osp.join(work, 'best_checkpoint'),
                osp.join(work, 'best_mIoU_iter_2.pth'))

    @staticmethod
    def write_results(path, variant, seed):
        miou = BASE[variant] + 2 * seed
        write(
            path,
            json.dumps(
                dict(
                    kind='sgsrf-test-results',
                    version=1,
                    command='python TEST.py',
                    config='c.py',
                    checkpoint='ckpt.pth',
                    dataset=dict(
                        type='SyntheticRefSegRSDataset',
                        data_root='d',
                        split='test'),
                    expressions=10,
                    protocol=dict(name='original'),
                    metrics={
                        'mIoU': miou,
                        'oIoU': miou - 5,
                        'Prec@0.5': 40.0
                    },
                    groups={
                        'small': dict(count=3, mIoU=10.0 * seed, oIoU=1.0),
                        '@held_out_pair':
                        dict(count=2, mIoU=miou / 2, oIoU=2.0)
                    })))


def write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def run(tmp_path,
        fake,
        variants=('full', 'no_scr_terms'),
        seeds=(0, 1, 2),
        options=(),
        jobs=1,
        digest=fixed_digest):
    plans = plan_runs(
        list(variants),
        list(seeds),
        str(tmp_path / 'work'),
        '/repo',
        config='base.py',
        cfg_options=list(options),
        digest=digest)
    records, failures = run_ablation(
        plans, TOOLS, jobs=jobs, run_command=fake, report=lambda _: None)
    out = str(tmp_path / 'work' / 'ablation.json')
    return plans, records, failures, ablation_file(plans, records, failures,
                                                   out, 'python ablation.py')


def test_plan_order_of_options_and_configs(tmp_path):
    plans = plan_runs(['no_scr_terms', 'no_text'], [0, 1],
                      str(tmp_path),
                      '/repo',
                      cfg_options=['a.b=1'],
                      digest=fixed_digest)
    assert [(p.variant, p.seed) for p in plans] == [('no_scr_terms', 0),
                                                    ('no_scr_terms', 1),
                                                    ('no_text', 0),
                                                    ('no_text', 1)]
    assert plans[1].cfg_options == ('a.b=1', 'model.structural_loss=None',
                                    'randomness.seed=1')
    assert plans[1].run_dir == osp.join(str(tmp_path), 'no_scr_terms', 'seed1')
    assert plans[0].config == '/repo/configs/sgsrf/sgsrf_tiny_synthetic.py'
    assert plans[2].config == \
        '/repo/configs/sgsrf/sgsrf_tiny_synthetic_notext.py'


@pytest.mark.parametrize('name', list(VARIANTS))
def test_variant_options_reach_the_config_as_written(name):
    plan, = plan_runs([name], [3], 'w', '/repo', digest=fixed_digest)
    parsed = parse_cfg_options(plan.cfg_options)
    assert parsed == dict(VARIANTS[name].cfg_options, **{'randomness.seed': 3})


@pytest.mark.parametrize('name',
                         [n for n, v in VARIANTS.items() if v.baseline])
def test_a_baseline_is_a_variant_whose_changes_this_one_keeps(name):
    baseline = VARIANTS[name].baseline
    assert baseline in VARIANTS and baseline != name
    changes, base_changes = (
        set(VARIANTS[v].cfg_options.items()) for v in (name, baseline))
    assert base_changes < changes or (VARIANTS[name].config
                                      != VARIANTS[baseline].config
                                      and base_changes <= changes)


@pytest.mark.parametrize('kwargs, message', [
    (dict(variants=['full', 'no_ccr']), 'unknown variants'),
    (dict(variants=['no_text'], config='mine.py'), 'has its own config'),
    (dict(seeds=[0, 0]), 'seeds must be distinct'),
    (dict(variants=[]), 'variants must be distinct and not empty'),
    (dict(cfg_options=['data_root']), 'must be key=value'),
])
def test_plan_errors(kwargs, message):
    args = dict(
        variants=['full'],
        seeds=[0],
        work_dir='w',
        repo_root='/r',
        digest=fixed_digest)
    with pytest.raises(ValueError, match=message):
        plan_runs(**dict(args, **kwargs))


def test_mean_and_std_over_seeds(tmp_path):
    fake = FakeTools()
    plans, records, failures, ablation = run(tmp_path, fake, jobs=2)
    assert not failures and len(records) == 6
    assert ablation['kind'] == 'sgsrf-ablation'
    assert ablation['metrics'] == [
        'mIoU', 'oIoU', 'mIoU@relation', 'mIoU@role_reversal',
        'mIoU@same_image_other_referent', 'mIoU@look_alike',
        'mIoU@held_out_pair', 'mIoU_small', 'pointing', 'drift'
    ]
    full, no_scr = ablation['variants']
    assert (full['name'], no_scr['name']) == ('full', 'no_scr_terms')
    assert 'structure' in no_scr['description'] and full['side_effects'] == ''
    assert full['baseline'] == no_scr['baseline'] == ''

    assert no_scr['cfg_options'] == {'model.structural_loss': None}
    # mIoU 60, 62, 64 -> 62 +- 2; mIoU_small 0, 10, 20 -> 10 +- 10
    assert full['summary']['mIoU'] == dict(mean=62.0, std=2.0, n=3)
    assert full['summary']['mIoU_small'] == dict(mean=10.0, std=10.0, n=3)
    assert no_scr['summary']['mIoU@held_out_pair'] == dict(
        mean=statistics.mean([25.0, 26.0, 27.0]), std=1.0, n=3)
    assert no_scr['summary']['oIoU']['mean'] == 47.0
    run1 = full['runs'][1]
    assert run1['seed'] == 1 and run1['metrics']['mIoU'] == 62.0
    assert run1['val'] == dict(metric='mIoU', iter=2, score=71.0)
    assert run1['checkpoint'].endswith('best_mIoU_iter_2.pth')
    assert run1['train_s'] >= 0 and run1['test_s'] >= 0
    results = osp.join(str(tmp_path / 'work'), run1['results'])
    assert json.load(open(results))['metrics']['mIoU'] == 62.0
    json.dumps(ablation)
    table = format_summary(ablation)
    assert '62.00 ± 2.00' in table and '0,1,2' in table
    threads = str(max(1, available_cores() // 2))
    assert {call[3]['OMP_NUM_THREADS'] for call in fake.calls} == {threads}


def test_one_seed_has_no_std(tmp_path):
    _, _, _, ablation = run(tmp_path, FakeTools(), seeds=[1])
    assert ablation['variants'][0]['summary']['mIoU'] == dict(
        mean=62.0, std=None, n=1)
    assert '62.00 ±' not in format_summary(ablation)


def test_test_runs_on_the_checkpoint_chosen_on_val(tmp_path):
    fake = FakeTools()
    run(tmp_path, fake, variants=['full'], seeds=[0])
    (_, _, train, _), (_, _, test, _) = fake.calls
    assert train[:3] == ['PY', 'TRAIN.py', 'base.py'] and '--resume' \
        not in train
    assert test[:4] == [
        'PY', 'TEST.py', 'base.py',
        osp.join(
            str(tmp_path / 'work'), 'full', 'seed0', 'train',
            'best_mIoU_iter_2.pth')
    ]
    assert option_values(test) == option_values(train)


def test_failures_are_reported_and_the_others_go_on(tmp_path):
    fake = FakeTools(fail={
        ('no_scr_terms', 'test'): 'crash',
        ('no_gpg', 'train'): 'no-best'
    })
    _, records, failures, ablation = run(
        tmp_path,
        fake,
        variants=['full', 'no_scr_terms', 'no_gpg'],
        seeds=[0, 1])
    assert sorted(records) == [('full', 0), ('full', 1)]
    assert sorted((f.plan.variant, f.plan.seed, f.stage)
                  for f in failures) == [('no_gpg', 0, 'train'),
                                         ('no_gpg', 1, 'train'),
                                         ('no_scr_terms', 0, 'test'),
                                         ('no_scr_terms', 1, 'test')]
    crash = next(f for f in failures if f.plan.variant == 'no_scr_terms')
    assert crash.tail[-1] == 'RuntimeError: boom' and len(crash.tail) == 20
    assert 'exit status 1' in str(crash) and crash.log.endswith('test.log')
    no_best = next(f for f in failures if f.plan.variant == 'no_gpg')
    assert 'has no best_checkpoint' in str(no_best)
    assert [v['name'] for v in ablation['variants']] == ['full']
    assert {(f['variant'], f['stage'])
            for f in ablation['failed']} == {('no_scr_terms', 'test'),
                                             ('no_gpg', 'train')}


def test_resuming_runs_only_what_is_missing(tmp_path):
    first = FakeTools(
        fail={
            ('no_scr_terms', 'test'): 'crash',
            ('no_gpg', 'train'): 'checkpoint-then-crash'
        })
    variants = ['full', 'no_scr_terms', 'no_gpg']
    run(tmp_path, first, variants=variants, seeds=[0])
    again = FakeTools()
    _, records, failures, ablation = run(
        tmp_path, again, variants=variants, seeds=[0])
    assert not failures
    assert [(v, stage)
            for v, stage, _, _ in again.calls] == [('no_scr_terms', 'test'),
                                                   ('no_gpg', 'train'),
                                                   ('no_gpg', 'test')]
    assert '--resume' in again.calls[1][2]
    assert records[('full', 0)]['reused'] is True
    assert records[('no_scr_terms', 0)]['reused'] is False
    assert [v['name'] for v in ablation['variants']] == variants


def test_collecting_reads_only_the_tested_runs_and_runs_nothing(tmp_path):
    fake = FakeTools(fail={('no_gpg', 'test'): 'crash'})
    plans, records, _, _ = run(tmp_path, fake, seeds=[0])
    calls = len(fake.calls)
    collected = finished_runs(plans)
    assert len(fake.calls) == calls
    assert sorted(collected) == [('full', 0), ('no_scr_terms', 0)]
    assert collected[('full', 0)]['val'] == records[('full', 0)]['val']
    assert all(record['reused'] for record in collected.values())


def test_a_folder_of_other_settings_is_refused(tmp_path):
    run(tmp_path,
        FakeTools(),
        variants=['full'],
        seeds=[0],
        options=['train_cfg.max_iters=2'])
    fake = FakeTools()
    _, records, failures, _ = run(tmp_path, fake, variants=['full'], seeds=[0])
    assert not records and not fake.calls
    failure, = failures
    assert isinstance(failure, RunFailed) and failure.stage == 'setup'
    assert "options ['train_cfg.max_iters=2', 'randomness.seed=0']" in str(
        failure)


def test_a_run_of_an_edited_config_is_refused(tmp_path):
    run(tmp_path, FakeTools(), variants=['full'], seeds=[0])
    fake = FakeTools()
    _, records, failures, _ = run(
        tmp_path,
        fake,
        variants=['full'],
        seeds=[0],
        digest=lambda config, options: 'edited')
    assert not records and not fake.calls
    failure, = failures
    assert failure.stage == 'setup'
    assert 'another version of base.py' in str(failure)
    assert '(config digest digest-of-base.py, now edited)' in str(failure)
    with pytest.raises(RunFailed, match='another version'):
        finished_runs(
            plan_runs(['full'], [0],
                      str(tmp_path / 'work'),
                      '/repo',
                      config='base.py',
                      digest=lambda config, options: 'edited'))


def test_the_config_digest_follows_values_not_text(tmp_path):
    write(str(tmp_path / 'base.py'), 'model = dict(width=8)\nseed = 0\n')
    write(
        str(tmp_path / 'child.py'),
        "_base_ = ['base.py']\nmodel = dict(depth=2)\n")
    child = str(tmp_path / 'child.py')
    digest = config_digest(child, ['seed=1'])
    assert digest == config_digest(child, ['seed=1'])
    assert digest != config_digest(child, ['seed=2'])
    assert digest != config_digest(child, ['model.depth=3'])
    write(str(tmp_path / 'other.py'), open(child).read() + '# a comment\n')
    assert config_digest(str(tmp_path / 'other.py'), ['seed=1']) == digest
    write(str(tmp_path / 'base.py'), 'model = dict(width=16)\nseed = 0\n')
    write(str(tmp_path / 'edited.py'), open(child).read())
    assert config_digest(str(tmp_path / 'edited.py'), ['seed=1']) != digest


def test_flat_test_metrics_names_groups_as_the_metric_logs(tmp_path):
    path = str(tmp_path / 'r.json')
    FakeTools.write_results(path, 'full', 1)
    metrics = flat_test_metrics(path)
    assert metrics['mIoU_small'] == 10.0 and metrics['oIoU_small'] == 1.0
    assert metrics['mIoU@held_out_pair'] == 31.0
    write(path, json.dumps({'metrics': {'mIoU': 1.0}}))
    with pytest.raises(ValueError, match='r.json is not a test results'):
        flat_test_metrics(path)
