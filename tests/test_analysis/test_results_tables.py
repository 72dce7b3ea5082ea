import json

import pytest
from results_fixtures import (make_benchmark_results, make_test_results,
                              write_json)

from sgsrf_mmseg.analysis.benchmark import (BenchmarkResults, load_benchmark,
                                            render_benchmark_block)
from sgsrf_mmseg.analysis.benchmark.report import benchmark_command
from sgsrf_mmseg.analysis.results_tables import (load_ablation,
                                                 load_test_results, mean_std,
                                                 render_ablation_block,
                                                 render_test_block)
from sgsrf_mmseg.utils.portable_paths import (REPOSITORY, PortablePaths,
                                              absolute_paths)


def test_test_block_from_two_runs(tmp_path):
    full = write_json(tmp_path / 'full.json', make_test_results())
    notext = write_json(
        tmp_path / 'notext.json',
        make_test_results(
            'configs/sgsrf/sgsrf_tiny_synthetic_notext.py',
            mIoU=18.06,
            oIoU=15.77))
    runs = [(p, load_test_results(p)) for p in (full, notext)]
    paths = PortablePaths(root=str(tmp_path))
    block = render_test_block(
        runs, metrics=['mIoU', 'oIoU', 'Prec@0.7'], paths=paths)
    assert block.startswith(
        '| config | expressions | mIoU | oIoU | Prec@0.7 |\n'
        '|---|---:|---:|---:|---:|\n'
        '| `sgsrf_tiny_synthetic` | 424 | 55.17 | 48.46 | 44.10 |\n'
        '| `sgsrf_tiny_synthetic_notext` | 424 | 18.06 | 15.77 | 44.10 |\n')
    assert ('| `sgsrf_tiny_synthetic` group | expressions | mIoU | oIoU |'
            in block)
    assert '| @held_out_pair | 111 | 34.08 | 24.20 |' in block
    assert ("Scored on the synthetic (embedded) `test` split; protocol "
            "'original': scored at the original image size" in block)
    assert ('- `python tools/test.py configs/sgsrf/sgsrf_tiny_synthetic.py '
            'work_dirs/x/best.pth` (`full.json`)') in block
    default = render_test_block(runs[:1], groups=False, paths=paths)
    assert '| Prec@0.9 |' in default and 'group' not in default


def test_test_tables_refuse_mixed_or_missing(tmp_path):
    a = write_json(tmp_path / 'a.json', make_test_results())
    b = write_json(tmp_path / 'b.json', make_test_results(protocol='lavt-480'))
    runs = [(p, load_test_results(p)) for p in (a, b)]
    with pytest.raises(ValueError, match='share the protocol.*b.json'):
        render_test_block(runs)
    with pytest.raises(ValueError, match="a.json has no metric 'Prec@0.95'"):
        render_test_block(runs[:1], metrics=['Prec@0.95'])
    write_json(tmp_path / 'bench.json', make_benchmark_results())
    with pytest.raises(ValueError, match='bench.json is not a test results'):
        load_test_results(str(tmp_path / 'bench.json'))
    (tmp_path / 'broken.json').write_text('{"kind": ')
    with pytest.raises(ValueError, match='broken.json is not valid JSON'):
        load_test_results(str(tmp_path / 'broken.json'))
    with pytest.raises(FileNotFoundError, match='nothere.json'):
        load_test_results(str(tmp_path / 'nothere.json'))


def test_benchmark_block(tmp_path):
    path = write_json(tmp_path / 'bench.json', make_benchmark_results())
    paths = PortablePaths(root=str(tmp_path))
    block = render_benchmark_block([(path, load_benchmark(path))], paths)
    assert ('| `sgsrf_tiny_synthetic` | NVIDIA H100 80GB HBM3 | bf16 | 8 | '
            '512 | 250.10 | 321.0 | 24.92 | 40960 | 12.3 | 81.00 | 2048 | '
            '2.62 |') in block
    assert '| clip_image | 22.1% | - |' in block
    assert ('| use_sdpa | decode_head.use_sdpa=False | - | - | '
            'out of memory |') in block
    assert ('`python tools/analysis/benchmark.py configs/sgsrf/'
            'sgsrf_tiny_synthetic.py --device cuda --dtype bf16 --batch-size '
            '8 --input-size 512 --warmup 2 --iters 10 --skip floor '
            '--compare use_sdpa` (torch 2.11.0, threads 16; `bench.json`)'
            ) in block
    recorded = BenchmarkResults.from_dict(
        make_benchmark_results(command='python bench.py x --iters 3'))
    assert benchmark_command(recorded) == 'python bench.py x --iters 3'
    bare = make_benchmark_results(
        infer=None,
        flops=None,
        compare=None,
        stages=dict(train=None, infer=None))
    assert benchmark_command(BenchmarkResults.from_dict(bare)).endswith(
        '--skip infer flops stages floor')
    row = render_benchmark_block([('b.json', BenchmarkResults.from_dict(bare))
                                  ]).split('\n')[2]
    assert row.endswith('| - | - | - | - |')
    del bare['train']
    with pytest.raises(ValueError, match=r"b2.json .*\['train'\]"):
        write_json(tmp_path / 'b2.json', bare)
        load_benchmark(str(tmp_path / 'b2.json'))


def write_ablation(tmp_path, variants, **extra):
    spec = dict(kind='sgsrf-ablation', variants=variants, **extra)
    path = tmp_path / 'ablation.json'
    path.write_text(json.dumps(spec))
    return str(path)


def test_ablation_mean_and_std_over_seeds(tmp_path):
    runs = tmp_path / 'runs'
    runs.mkdir()
    full = []
    for seed, (miou, oiou) in enumerate([(50.0, 40.0), (52.0, 41.0),
                                         (54.0, 45.0)]):
        write_json(runs / f'full_{seed}.json',
                   make_test_results(mIoU=miou, oIoU=oiou))
        full.append(dict(seed=seed, results=f'runs/full_{seed}.json'))
    write_json(runs / 'noccr.json', make_test_results(mIoU=40.0, oIoU=30.5))
    path = write_ablation(tmp_path, [
        dict(name='SGSRF', runs=full),
        dict(name='no CCR', runs=[dict(seed=7, results='runs/noccr.json')]),
    ])
    metrics, variants = load_ablation(path)
    assert metrics == ['mIoU', 'oIoU']
    block = render_ablation_block(
        metrics, variants, paths=PortablePaths(root=str(tmp_path)))
    # mIoU 50, 52, 54: mean 52, sample std 2; oIoU 40, 41, 45: mean 42,
    # sample std sqrt(((-2)^2 + (-1)^2 + 3^2) / 2) = sqrt(7).
    assert block.startswith(
        '| variant | seeds | mIoU | oIoU |\n|---|---|---:|---:|\n'
        '| SGSRF | 0, 1, 2 | 52.00 ± 2.00 | 42.00 ± 2.65 |\n'
        '| no CCR | 7 | 40.00 | 30.50 |\n')
    assert 'sample standard deviation (n - 1)' in block
    assert '<summary>Test runs (4)</summary>' in block
    assert ("- no CCR, seed 7: `python tools/test.py configs/sgsrf/"
            "sgsrf_tiny_synthetic.py work_dirs/x/best.pth` "
            "(`runs/noccr.json`)") in block
    assert mean_std([1.0, 1.0]) == '1.00 ± 0.00'


def test_ablation_of_group_metrics(tmp_path):
    """The tool's default columns include group scores (held-out pairs,
    small targets), which ``test_results.json`` keeps under ``groups``."""
    write_json(tmp_path / 'a.json', make_test_results())
    path = write_ablation(
        tmp_path, [dict(name='full', runs=[dict(seed=0, results='a.json')])],
        metrics=['mIoU', 'mIoU@held_out_pair', 'mIoU_small'])
    block = render_ablation_block(
        *load_ablation(path), paths=PortablePaths(root=str(tmp_path)))
    assert '| full | 0 | 55.17 | 34.08 | 49.67 |' in block
    path = write_ablation(
        tmp_path, [dict(name='full', runs=[dict(seed=0, results='a.json')])],
        metrics=['mIoU_tiny'])
    with pytest.raises(ValueError, match="a.json has no metric 'mIoU_tiny'"):
        render_ablation_block(*load_ablation(path))


def test_ablation_errors_name_the_problem(tmp_path):
    write_json(tmp_path / 'a.json', make_test_results())
    write_json(tmp_path / 'b.json', make_test_results(split='val'))
    twice = write_ablation(tmp_path, [
        dict(
            name='x',
            runs=[
                dict(seed=0, results='a.json'),
                dict(seed=0, results='a.json')
            ])
    ])
    with pytest.raises(ValueError, match="variant 'x' lists seed 0 twice"):
        load_ablation(twice)
    mixed = write_ablation(tmp_path, [
        dict(name='x', runs=[dict(seed=0, results='a.json')]),
        dict(name='y', runs=[dict(seed=0, results='b.json')])
    ])
    with pytest.raises(ValueError, match='share the dataset.*b.json'):
        render_ablation_block(*load_ablation(mixed))
    missing = write_ablation(
        tmp_path, [dict(name='x', runs=[dict(seed=0, results='gone.json')])])
    with pytest.raises(FileNotFoundError, match='gone.json'):
        load_ablation(missing)
    empty = write_ablation(tmp_path, [dict(name='x', runs=[])])
    with pytest.raises(ValueError, match=r'variants\[0\]'):
        load_ablation(empty)
    (tmp_path / 'ablation.json').write_text('{"variants": []}')
    with pytest.raises(ValueError, match='"kind" must be'):
        load_ablation(str(tmp_path / 'ablation.json'))


def test_blocks_write_paths_relative_to_the_repository_or_work(
        tmp_path, monkeypatch):
    monkeypatch.delenv('WORK', raising=False)
    results = make_test_results()
    results['command'] = (
        f'python {REPOSITORY}/tools/test.py '
        f'{REPOSITORY}/configs/sgsrf/sgsrf_tiny_synthetic.py '
        f'{tmp_path}/best.pth')
    path = write_json(tmp_path / 'full.json', results)
    runs = [(path, load_test_results(path))]
    with pytest.raises(
            ValueError, match=f'absolute path {tmp_path}/best.pth'
            '.*set WORK'):
        render_test_block(runs)
    monkeypatch.setenv('WORK', str(tmp_path))
    block = render_test_block(runs)
    assert ('`python tools/test.py configs/sgsrf/sgsrf_tiny_synthetic.py '
            '$WORK/best.pth` (`$WORK/full.json`)') in block
    assert absolute_paths(block) == []
