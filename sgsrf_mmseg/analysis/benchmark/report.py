"""Benchmark results as a text report (the tool's output) and as a markdown
block for the documentation (``tools/analysis/render_results.py``)."""
from typing import Dict, List, Optional, Sequence, Tuple

from ...utils.portable_paths import PortablePaths
from ..results_tables import config_name, fmt, load_json, markdown_table
from .record import BenchmarkResults, Floor, StageTime, StageTimes, SwitchRun

Run = Tuple[str, BenchmarkResults]


def gflop(value: Optional[int]) -> str:
    """FLOPs as GFLOP text ('-' for None)."""
    return '-' if value is None else f'{value / 1e9:.2f}'


def share(entry: Optional[StageTime]) -> str:
    """A stage's share of the forward time in percent ('-' if unknown)."""
    if entry is None or entry.share is None:
        return '-'
    return f'{100 * entry.share:.1f}%'


def load_benchmark(path: str) -> BenchmarkResults:
    """Read the ``--out`` JSON of ``tools/analysis/benchmark.py``."""
    return BenchmarkResults.from_dict(load_json(path), path)


def text_table(headers: Sequence[str],
               rows: List[Sequence],
               text_columns: int = 1) -> str:
    """Left-aligned text columns first, then right-aligned numbers."""
    cells = [list(headers)] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append('  '.join(
            c.ljust(widths[i]) if i < text_columns else c.rjust(widths[i])
            for i, c in enumerate(row)).rstrip())
        if index == 0:
            lines.append('  '.join('-' * w for w in widths).rstrip())
    return '\n'.join(lines)


def _header(r: BenchmarkResults) -> str:
    return (f'{r.config} | {r.device} ({r.device_name}) | {r.dtype} | batch '
            f'{r.batch_size} | {r.input_size} px | torch {r.torch} | '
            f'{r.threads} threads | warmup {r.warmup}, iters {r.iters}\n'
            f'params: {r.params.total / 1e6:.2f} M total, '
            f'{r.params.trainable / 1e6:.2f} M trainable')


def _phases(r: BenchmarkResults) -> List[str]:
    t = r.train
    parts = [
        text_table([
            'training step', 'ms/step', 'images/s', 'fwd ms', 'bwd ms',
            'optim ms', 'peak MiB', '+MiB', 'TFLOP/s', 'TFLOP/s cnt', ''
        ], [[
            'train',
            fmt(t.step_ms, 1),
            fmt(t.images_per_s),
            fmt(t.forward_ms, 1),
            fmt(t.backward_ms, 1),
            fmt(t.optimizer_ms, 1),
            fmt(t.peak_mib, 0),
            fmt(t.peak_delta_mib, 0),
            fmt(t.tflops_per_s, 3),
            fmt(t.tflops_per_s_counted, 3), t.error or ''
        ]])
    ]
    if r.infer is not None:
        i = r.infer
        parts.append(
            text_table([
                'inference', 'ms/batch', 'ms/image', 'images/s', 'peak MiB',
                '+MiB', 'TFLOP/s', ''
            ], [[
                'predict',
                fmt(i.ms_per_batch, 1),
                fmt(i.ms_per_image, 1),
                fmt(i.images_per_s),
                fmt(i.peak_mib, 0),
                fmt(i.peak_delta_mib, 0),
                fmt(i.tflops_per_s, 3), i.error or ''
            ]]))
    if r.flops is not None:
        f = r.flops
        parts.append(f'GFLOP per batch: forward (train) '
                     f'{gflop(f.forward_train)}, backward (counted) '
                     f'{gflop(f.backward_train)}, forward (predict) '
                     f'{gflop(f.forward_infer)}' +
                     (f' ({f.error})' if f.error else ''))
    return parts


def _stage_names(stages: StageTimes) -> List[str]:
    return list(dict.fromkeys([*(stages.train or {}), *(stages.infer or {})]))


def _stages(stages: StageTimes) -> str:
    rows = []
    for name in _stage_names(stages):
        row = [name]
        for table in (stages.train or {}, stages.infer or {}):
            entry = table.get(name)
            row += ([fmt(entry.ms), share(entry)]
                    if entry and entry.share is not None else ['-', '-'])
        rows.append(row)
    return text_table(
        ['stage (forward)', 'train ms', 'share', 'predict ms', 'share'], rows)


def _floor(floor: Floor) -> str:
    parts = [(name, getattr(floor, name))
             for name in ('clip_image', 'clip_text', 'sam_image_encoder')]
    rows = [[
        name,
        fmt(part.forward_ms, 1),
        fmt(part.forward_backward_ms, 1),
        fmt(part.peak_mib, 0), part.error or ''
    ] for name, part in parts if part is not None]
    rows.append([
        'total',
        fmt(floor.total.forward_ms, 1),
        fmt(floor.total.forward_backward_ms, 1), '-', ''
    ])
    return (text_table(
        ['floor (library towers)', 'fwd ms', 'fwd+bwd ms', 'peak MiB', ''],
        rows) + f'\ntrain step / towers fwd+bwd: '
            f'{fmt(floor.train_step_over_floor)}x; '
            f'predict / towers fwd: {fmt(floor.predict_over_floor)}x')


def _changes(entry: SwitchRun) -> str:
    return ', '.join(f'{k}={v}' for k, v in entry.changes.items())


def _compare(compare: Dict[str, SwitchRun]) -> str:
    rows = [[
        name,
        _changes(e),
        fmt(e.step_ms, 1),
        fmt(e.images_per_s),
        fmt(e.speedup),
        fmt(e.peak_mib, 0), e.error or ''
    ] for name, e in compare.items()]
    return text_table([
        'switch', 'changes', 'ms/step', 'images/s', 'speedup', 'peak MiB', ''
    ],
                      rows,
                      text_columns=2)


def render(results: BenchmarkResults) -> str:
    """The readable text report of a run."""
    sections = [_header(results)] + _phases(results)
    if results.stages.train or results.stages.infer:
        sections.append(_stages(results.stages))
    if results.floor is not None:
        sections.append(_floor(results.floor))
    if results.compare is not None:
        sections.append(_compare(results.compare))
    return '\n\n'.join(sections)


def benchmark_command(results: BenchmarkResults) -> str:
    """The benchmark command line: recorded, or rebuilt from the fields."""
    if results.command:
        return results.command
    r = results
    args = [
        'python tools/analysis/benchmark.py', r.config, f'--device {r.device}',
        f'--dtype {r.dtype}', f'--batch-size {r.batch_size}',
        f'--input-size {r.input_size}'
    ]
    args += [
        f'--{key} {getattr(r, key)}' for key in ('warmup', 'iters')
        if getattr(r, key) is not None
    ]
    skipped = [
        name
        for name, missing in (('infer', r.infer is None), ('flops',
                                                           r.flops is None),
                              ('stages',
                               not (r.stages.train or r.stages.infer)),
                              ('floor', r.floor is None)) if missing
    ]
    if skipped:
        args.append('--skip ' + ' '.join(skipped))
    if r.compare is not None:
        args.append(
            ' '.join(['--compare'] +
                     [name for name in r.compare if name != 'baseline']))
    return ' '.join(args)


def render_benchmark_block(runs: Sequence[Run],
                           paths: Optional[PortablePaths] = None) -> str:
    """Speed, memory and FLOPs of one or more benchmark runs, in markdown.

    Args:
        runs (Sequence[tuple[str, BenchmarkResults]]): ``(path, results)``.
        paths (PortablePaths, optional): How paths are written. Defaults to
            relative to this repository (or ``$WORK``).

    Returns:
        str: One row per run, then the stage shares and the switch
        comparison of each run that has them, then the commands.
    """
    paths = paths or PortablePaths()
    rows, parts = [], []
    for _, r in runs:
        train, infer = r.train, r.infer
        rows.append([
            f'`{config_name(r.config)}`', r.device_name, r.dtype, r.batch_size,
            r.input_size,
            fmt(r.params.total / 1e6),
            fmt(train.step_ms, 1),
            fmt(train.images_per_s),
            fmt(train.peak_mib, 0),
            fmt(infer and infer.ms_per_image, 1),
            fmt(infer and infer.images_per_s),
            fmt(infer and infer.peak_mib, 0),
            gflop(r.flops and r.flops.forward_infer)
        ])
    parts.append(
        markdown_table([
            'config', 'device', 'dtype', 'batch', 'input px', 'params (M)',
            'train ms/step', 'train images/s', 'train peak MiB',
            'predict ms/image', 'predict images/s', 'predict peak MiB',
            'predict GFLOP/batch'
        ],
                       rows,
                       text_columns=3))
    for _, r in runs:
        label = f'`{config_name(r.config)}`, {r.input_size} px, {r.dtype}'
        names = _stage_names(r.stages)
        if names:
            parts.append(
                markdown_table(
                    [f'stage ({label})', 'train share', 'predict share'],
                    [[n] + [
                        share((table or {}).get(n))
                        for table in (r.stages.train, r.stages.infer)
                    ] for n in names]))
        if r.compare:
            parts.append(
                markdown_table([
                    f'switch ({label})', 'changes', 'train ms/step', 'speedup',
                    'peak MiB'
                ], [[
                    name,
                    _changes(e) or '-',
                    fmt(e.step_ms, 1),
                    fmt(e.speedup),
                    fmt(e.peak_mib, 0) if not e.error else e.error
                ] for name, e in r.compare.items()],
                               text_columns=2))
    parts.append('Measured with:\n\n' + '\n'.join(
        f'- `{paths.command(benchmark_command(r))}` (torch {r.torch}, '
        f'threads {r.threads}; `{paths.path(path)}`)' for path, r in runs))
    return paths.refuse_absolute('\n\n'.join(parts), 'the benchmark block')
