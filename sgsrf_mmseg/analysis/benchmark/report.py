"""Render the results of :func:`run` as readable text tables."""
from typing import List, Optional, Sequence


def fmt(value, digits: int = 1) -> str:
    """A number for a table ('-' for None)."""
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def gflop(value: Optional[int]) -> str:
    """FLOPs as GFLOP text."""
    return '-' if value is None else f'{value / 1e9:.2f}'


def table(headers: Sequence[str],
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


def _header(results: dict) -> str:
    params = results['params']
    return (f"{results['config']} | {results['device']} "
            f"({results['device_name']}) | {results['dtype']} | batch "
            f"{results['batch_size']} | {results['input_size']} px | torch "
            f"{results['torch']} | {results['threads']} threads | warmup "
            f"{results['warmup']}, iters {results['iters']}\n"
            f"params: {params['total'] / 1e6:.2f} M total, "
            f"{params['trainable'] / 1e6:.2f} M trainable")


def _train(train: dict) -> str:
    return table([
        'training step', 'ms/step', 'images/s', 'fwd ms', 'bwd ms', 'optim ms',
        'peak MiB', '+MiB', 'TFLOP/s', 'TFLOP/s cnt', ''
    ], [[
        'train',
        fmt(train['step_ms']),
        fmt(train['images_per_s'], 2),
        fmt(train['forward_ms']),
        fmt(train['backward_ms']),
        fmt(train['optimizer_ms']),
        fmt(train['peak_mib'], 0),
        fmt(train['peak_delta_mib'], 0),
        fmt(train['tflops_per_s'], 3),
        fmt(train['tflops_per_s_counted'], 3), train['error'] or ''
    ]])


def _infer(infer: dict) -> str:
    return table([
        'inference', 'ms/batch', 'ms/image', 'images/s', 'peak MiB', '+MiB',
        'TFLOP/s', ''
    ], [[
        'predict',
        fmt(infer['ms_per_batch']),
        fmt(infer['ms_per_image']),
        fmt(infer['images_per_s'], 2),
        fmt(infer['peak_mib'], 0),
        fmt(infer['peak_delta_mib'], 0),
        fmt(infer['tflops_per_s'], 3), infer['error'] or ''
    ]])


def _flops(flops: dict) -> str:
    return (f"GFLOP per batch: forward (train) "
            f"{gflop(flops['forward_train'])}, backward (counted) "
            f"{gflop(flops['backward_train'])}, forward (predict) "
            f"{gflop(flops['forward_infer'])}" +
            (f" ({flops['error']})" if flops['error'] else ''))


def _stages(stages: dict) -> str:
    train, infer = stages['train'] or {}, stages['infer'] or {}
    names = list(train) + [name for name in infer if name not in train]
    rows = []
    for name in names:
        row = [name]
        for entry in (train.get(name), infer.get(name)):
            row += ([fmt(entry['ms'], 2), f"{100 * entry['share']:.1f}%"]
                    if entry and entry['share'] is not None else ['-', '-'])
        rows.append(row)
    return table(
        ['stage (forward)', 'train ms', 'share', 'predict ms', 'share'], rows)


def _floor(floor: dict) -> str:
    rows = [[
        name,
        fmt(part['forward_ms']),
        fmt(part['forward_backward_ms']),
        fmt(part.get('peak_mib'), 0),
        part.get('error') or ''
    ] for name, part in floor.items() if isinstance(part, dict)]
    return (table(
        ['floor (library towers)', 'fwd ms', 'fwd+bwd ms', 'peak MiB', ''],
        rows) + f"\ntrain step / towers fwd+bwd: "
            f"{fmt(floor['train_step_over_floor'], 2)}x; "
            f"predict / towers fwd: {fmt(floor['predict_over_floor'], 2)}x")


def _compare(compare: dict) -> str:
    rows = [[
        name, ', '.join(f'{k}={v}' for k, v in entry['changes'].items()),
        fmt(entry['step_ms']),
        fmt(entry['images_per_s'], 2),
        fmt(entry['speedup'], 2),
        fmt(entry['peak_mib'], 0), entry['error'] or ''
    ] for name, entry in compare.items()]
    return table([
        'switch', 'changes', 'ms/step', 'images/s', 'speedup', 'peak MiB', ''
    ],
                 rows,
                 text_columns=2)


def render(results: dict) -> str:
    """The readable report of a results dict (see ``runner``)."""
    sections = [_header(results), _train(results['train'])]
    if results['infer'] is not None:
        sections.append(_infer(results['infer']))
    if results['flops'] is not None:
        sections.append(_flops(results['flops']))
    if results['stages']['train'] or results['stages']['infer']:
        sections.append(_stages(results['stages']))
    if results['floor'] is not None:
        sections.append(_floor(results['floor']))
    if results['compare'] is not None:
        sections.append(_compare(results['compare']))
    return '\n\n'.join(sections)
